using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;

namespace KmsPlugin.Server.Tests.Interop;

/// <summary>
/// The kube-apiserver-style Go client against the kms-plugin executable (not the in-process host
/// <see cref="GoClientInteropTests"/> uses), so scripts/test.sh can run it against the native binary.
/// </summary>
[Trait(PluginExecutable.Trait, PluginExecutable.Category)]
public sealed class GoClientProcessInteropTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;
    private PluginProcess _plugin = null!;

    public GoClientProcessInteropTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public async Task InitializeAsync() =>
        _plugin = await PluginProcess.StartAsync(_dir.File("run/kms.sock"), null, "--dev", "--log-level", "Warning");

    public async Task DisposeAsync()
    {
        await _plugin.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [InlineData("v1", "raw")]
    [InlineData("v1", "percent")]
    [InlineData("v2", "localhost")]
    [InlineData("v2", "percent")]
    public async Task Check_and_malformed_input_pass_kube_apiserver_validation(string api, string authority)
    {
        foreach (var mode in new[] { "check", "bad" })
        {
            // A generous deadline: the first calls into a JIT build on a loaded CI machine are slow.
            var result = await GoClient.RunAsync("-api", api, "-socket", _plugin.SocketPath, "-authority", authority, "-mode", mode, "-timeout", "60s");
            _output.WriteLine(result.ToString());
            Assert.True(result.ExitCode == 0, result + _plugin.Log);
        }
    }
}
