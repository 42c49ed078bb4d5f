using System.Text.Json;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// The grpc-go client from tests/interop/go, built by scripts/test.sh from Debian packages. It
/// dials the socket path exactly as kube-apiserver's KMS v1 client does.
/// </summary>
internal static class GoClient
{
    public static string Path => BuiltProgram.Find("KMS_PLUGIN_GO_CLIENT", "kms-goclient", "Go interop client", "build-go-client.sh");

    public static Task<ProcessResult> RunAsync(params string[] arguments) => ProcessRunner.RunAsync(Path, arguments);

    public static async Task<LoadReport> LoadAsync(string socket, string api, string authority, int concurrency, int calls)
    {
        var result = await RunAsync("-api", api, "-socket", socket, "-authority", authority, "-mode", "load", "-concurrency", concurrency.ToString(), "-calls", calls.ToString(), "-json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonSerializer.Deserialize<LoadReport>(result.Output.Trim(), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })
            ?? throw new InvalidOperationException(result.ToString());
    }

    internal sealed record LoadReport(string Authority, string AuthorityHeader, int Concurrency, long Calls, double Seconds, double CallsPerSecond, double P50Ms, double P99Ms, long Errors);
}
