using KmsPlugin.RootKeys.Pkcs11;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;

namespace KmsPlugin.Server.Tests.Hardening;

/// <summary>
/// The executable at Trace on a SoftHSM token through the pkcs11 verbs, serve, KMS v1 and v2 calls,
/// bad ciphertexts and a wrong PIN: neither PIN, data key nor plaintext may show in any output, log,
/// metrics page or gRPC error. (The HSM root key never leaves the token, so there are no bytes of it to look for.)
/// </summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11SecretHygieneTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly SecretLeakScanner _scanner = new();
    private readonly ITestOutputHelper _output;

    public Pkcs11SecretHygieneTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task No_pin_data_key_or_plaintext_reaches_logs_outputs_metrics_or_errors_at_trace_level()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "root");
        _scanner.AddSecret("PIN", token.Pin);
        _scanner.AddSecret("SO PIN", "so-" + token.Pin);
        var pinFile = SecretFile("pin", token.Pin);
        string[] tokenArgs = ["--module", SoftHsm.ModulePath, "--token", token.Label, "--pin-file", pinFile];
        await CliAsync(["pkcs11", "keygen", .. tokenArgs, "--label", "second"]);
        await CliAsync(["pkcs11", "list", .. tokenArgs]);

        var port = LoopbackPorts.Free();
        var socket = _dir.File("kms.sock");
        await using var plugin = await PluginProcess.StartAsync(socket, SoftHsm.Environment,
        [
            "--provider", "pkcs11", "--pkcs11-module", SoftHsm.ModulePath, "--pkcs11-token", token.Label, "--pkcs11-key", "root",
            "--pkcs11-pin-file", pinFile, "--log-level", "Trace", "--health-address", $"127.0.0.1:{port}",
        ]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
        var check = await GoClient.RunAsync("-api", "v1", "-socket", socket, "-authority", "raw", "-mode", "check");
        Assert.True(check.ExitCode == 0, check.ToString());
        _scanner.AddText("go client", check);
        _scanner.AddText("status", await PluginProcess.RunCliAsync(null, "status", "--socket", socket));
        var acknowledged = await KmsCallSweep.RunAsync(plugin, _scanner);

        var wrongPin = "wrong-pin-" + Guid.NewGuid().ToString("N")[..8];
        _scanner.AddSecret("wrong PIN", wrongPin);
        var wrongPinFile = SecretFile("wrong-pin", wrongPin);
        var refused = await PluginProcess.RunCliAsync(SoftHsm.Environment,
            "serve", "--socket", _dir.File("wrong.sock"), "--provider", "pkcs11", "--pkcs11-module", SoftHsm.ModulePath,
            "--pkcs11-token", token.Label, "--pkcs11-key", "root", "--pkcs11-pin-file", wrongPinFile);
        Assert.True(refused.ExitCode == 2 && refused.Error.Contains("wrong PIN", StringComparison.Ordinal), refused.ToString());
        _scanner.AddText("serve with a wrong PIN", refused);
        var listRefused = await PluginProcess.RunCliAsync(SoftHsm.Environment, "pkcs11", "list", "--module", SoftHsm.ModulePath, "--token", token.Label, "--pin-file", wrongPinFile);
        Assert.NotEqual(0, listRefused.ExitCode);
        _scanner.AddText("pkcs11 list with a wrong PIN", listRefused);

        using (var http = new HttpClient())
        {
            _scanner.AddText("/metrics", await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
            _scanner.AddText("/healthz", await http.GetStringAsync($"http://127.0.0.1:{port}/healthz"));
        }

        Assert.Equal(0, await plugin.TerminateAsync());
        using (var rootKeys = Pkcs11RootKeyProvider.Open(token.Options("root")))
        {
            await KmsCallSweep.AddDataKeysAsync(rootKeys, acknowledged, _scanner);
        }

        _scanner.AddText("plugin log", plugin.Log);
        Assert.Contains(" dbug: ", plugin.Log);
        _scanner.AssertNoLeaks();
        _output.WriteLine($"{_scanner.SecretCount} secrets checked against {_scanner.TextCount} texts ({plugin.Log.Length} log characters)");
    }

    private async Task CliAsync(params string[] arguments)
    {
        var result = await PluginProcess.RunCliAsync(SoftHsm.Environment, arguments);
        Assert.True(result.ExitCode == 0, result.ToString());
        _scanner.AddText($"kms-plugin {arguments[0]} {arguments[1]}", result);
    }

    private string SecretFile(string name, string secret)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, secret + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}
