using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;

namespace KmsPlugin.Server.Tests.Interop;

/// <summary>
/// The client kube-apiserver really is: grpc-go dialing the socket path. Its `:authority` is the
/// raw path (grpc-go of kube-apiserver's older releases), the percent-encoded path (current
/// grpc-go) or `localhost` (kube-apiserver's v2 client since 1.32).
/// </summary>
public sealed class GoClientInteropTests : IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private RunningPlugin _plugin = null!;

    public GoClientInteropTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public async Task InitializeAsync() => _plugin = await RunningPlugin.StartAsync(TestKeys.Development());

    public async Task DisposeAsync() => await _plugin.DisposeAsync();

    [Theory]
    [InlineData("raw")]
    [InlineData("percent")]
    [InlineData("localhost")]
    public async Task Version_Encrypt_Decrypt_and_health_ping_succeed(string authority)
    {
        var result = await GoClient.RunAsync("-socket", _plugin.SocketPath, "-authority", authority, "-mode", "check");
        _output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Theory]
    [InlineData("raw")]
    [InlineData("percent")]
    [InlineData("localhost")]
    public async Task Malformed_ciphertexts_are_invalid_argument(string authority)
    {
        var result = await GoClient.RunAsync("-socket", _plugin.SocketPath, "-authority", authority, "-mode", "bad");
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Theory]
    [InlineData("raw")]
    [InlineData("percent")]
    [InlineData("localhost")]
    public async Task V2_Status_Encrypt_Decrypt_pass_kube_apiserver_validation(string authority)
    {
        var result = await GoClient.RunAsync("-api", "v2", "-socket", _plugin.SocketPath, "-authority", authority, "-mode", "check");
        _output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("healthz=\"ok\"", result.Output);
    }

    [Theory]
    [InlineData("raw")]
    [InlineData("localhost")]
    public async Task V2_malformed_ciphertexts_and_wrong_key_ids_are_refused(string authority)
    {
        var result = await GoClient.RunAsync("-api", "v2", "-socket", _plugin.SocketPath, "-authority", authority, "-mode", "bad");
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Theory]
    [InlineData("v1", "raw", 1)]
    [InlineData("v1", "raw", 16)]
    [InlineData("v1", "localhost", 16)]
    [InlineData("v2", "raw", 16)]
    [InlineData("v2", "localhost", 16)]
    public async Task Load_through_the_real_client_has_no_errors(string api, string authority, int concurrency)
    {
        var report = await GoClient.LoadAsync(_plugin.SocketPath, api, authority, concurrency, calls: 4000);
        _output.WriteLine($"go client {api}, authority {authority} ({report.AuthorityHeader}), {concurrency} callers: {report.CallsPerSecond:F0} round trips/s, p50 {report.P50Ms:F2} ms, p99 {report.P99Ms:F2} ms");
        Assert.Equal(0, report.Errors);
        Assert.Equal(4000, report.Calls);
    }
}
