using System.Reflection;
using System.Text.Json;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>bench/KmsPlugin.LoadGen (kms-loadgen), built with the tests, run as its own process.</summary>
internal static class LoadGenerator
{
    public static string Path
    {
        get
        {
            var configuration = typeof(LoadGenerator).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
            var path = System.IO.Path.Combine(RepositoryPaths.Root, "bench/KmsPlugin.LoadGen/bin", configuration, "net10.0/kms-loadgen.dll");
            Assert.True(File.Exists(path), $"kms-loadgen not built at {path}");
            return path;
        }
    }

    /// <summary>Runs kms-loadgen with --output json, requires exit code 0, returns the parsed output.</summary>
    public static async Task<JsonElement> RunJsonAsync(params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("dotnet", [Path, .. arguments, "--output", "json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Output).RootElement.Clone();
    }
}
