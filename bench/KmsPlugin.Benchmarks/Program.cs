using BenchmarkDotNet.Running;

namespace KmsPlugin.Benchmarks;

internal static class Program
{
    /// <summary>`dotnet run -c Release --project bench/KmsPlugin.Benchmarks -- --filter '*'` (BenchmarkDotNet's switches).</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
