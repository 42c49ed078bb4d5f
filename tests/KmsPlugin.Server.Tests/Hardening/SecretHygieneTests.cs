using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grpc.Core;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Hardening;

/// <summary>
/// The executable at Trace through every keystore verb, serve, status, KMS v1 and v2 calls, bad
/// ciphertexts, reloads (good, foreign file, SIGHUP), injected root-key faults (fail, fail every
/// other call, slow, hang), a wrong passphrase and a group-readable keystore: no passphrase, root key, data key or plaintext may show in any output, log, metrics
/// page or gRPC error.
/// </summary>
public sealed class SecretHygieneTests : IDisposable
{
    private readonly KeystoreFiles _files = new("hygiene-passphrase-" + Guid.NewGuid().ToString("N"));
    private readonly SecretLeakScanner _scanner = new();
    private readonly ITestOutputHelper _output;

    public SecretHygieneTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task No_secret_reaches_logs_outputs_metrics_or_errors_at_trace_level()
    {
        _scanner.AddSecret("keystore passphrase", _files.Passphrase);

        // `keystore init` runs below for the foreign keystore; this one is cheap to load for the many verbs.
        _files.InitAtMinimumCost();
        var added = JsonDocument.Parse((await CliAsync("keystore", "add", "--json")).Output).RootElement[0].GetProperty("id").GetString()!;
        await CliAsync("keystore", "list");

        var port = LoopbackPorts.Free();
        var socket = _files.Directory.File("run/kms.sock");
        var faults = _files.Directory.File("faults");
        await File.WriteAllTextAsync(faults, "");

        // A data key per Encrypt and a one-entry cache: most calls reach the root key, where the faults are injected.
        await using var plugin = await PluginProcess.StartAsync(socket, null,
        [
            .. _files.Args, "--log-level", "Trace", "--health-address", $"127.0.0.1:{port}",
            "--dek-max-uses", "1", "--dek-cache-size", "1", "--root-key-timeout", "1s", "--diagnostics-faults-file", faults,
        ]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));

        _scanner.AddText("status", await PluginProcess.RunCliAsync(null, "status", "--socket", socket));
        foreach (var api in new[] { "v1", "v2" })
        {
            var check = await GoClient.RunAsync("-api", api, "-socket", socket, "-authority", "raw", "-mode", "check");
            Assert.True(check.ExitCode == 0, check.ToString());
            _scanner.AddText($"go client {api}", check);
        }

        var acknowledged = await KmsCallSweep.RunAsync(plugin, _scanner);

        // Rotation through the running plugin, then a reload that must fail, then SIGHUP.
        var firstPrimary = KeystoreSnapshot.Load(_files).PrimaryId;
        await CliAsync("keystore", "promote", added);
        await WaitForAsync(plugin, async () => (await plugin.V2.StatusAsync(new V2.StatusRequest())).KeyId.StartsWith(added + "@", StringComparison.Ordinal), "the promotion");
        acknowledged.AddRange(await KmsCallSweep.RunAsync(plugin, _scanner));
        await DriveFaultsAsync(plugin, faults, port, acknowledged);
        await CliAsync("keystore", "retire", firstPrimary);
        await CliAsync("keystore", "enable", firstPrimary);

        var keystoreBytes = await File.ReadAllBytesAsync(_files.Keystore);
        await ReplaceWithForeignKeystoreAsync();
        await WaitForAsync(plugin, () => Task.FromResult(plugin.Log.Contains("root key reload failed", StringComparison.Ordinal)), "the failed reload");
        await File.WriteAllBytesAsync(_files.Keystore, keystoreBytes);
        await ProcessRunner.RunAsync("kill", ["-HUP", plugin.Id.ToString()]);
        await WaitForAsync(plugin, () => Task.FromResult(plugin.Log.Contains("SIGHUP", StringComparison.Ordinal)), "SIGHUP");

        await RefusedAsync("a wrong passphrase", "wrong passphrase", "serve", "--socket", _files.Directory.File("wrong.sock"), "--keystore", _files.Keystore, "--passphrase-file", WrongPassphraseFile());
        foreach (var mode in new[] { "640", "604" })
        {
            File.SetUnixFileMode(_files.Keystore, (UnixFileMode)Convert.ToInt32(mode, 8));
            await RefusedAsync($"a {mode} keystore", "chmod 600", ["serve", "--socket", _files.Directory.File("open.sock"), .. _files.Args]);
            await RefusedAsync($"a {mode} keystore", "chmod 600", ["keystore", "list", .. _files.Args]);
        }

        File.SetUnixFileMode(_files.Keystore, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await CliAsync("keystore", "list");

        using (var http = new HttpClient())
        {
            foreach (var path in new[] { "/metrics", "/healthz", "/readyz", "/livez" })
            {
                _scanner.AddText(path, await http.GetStringAsync($"http://127.0.0.1:{port}{path}"));
            }
        }

        Assert.Equal(0, await plugin.TerminateAsync());
        AddRootAndDataKeys(acknowledged);
        _scanner.AddText("plugin log", plugin.Log);

        // Proof that the log really ran below Information: the authority normalizer logs at Debug.
        Assert.Contains(" dbug: ", plugin.Log);
        _scanner.AssertNoLeaks();
        _output.WriteLine($"{_scanner.SecretCount} secrets checked against {_scanner.TextCount} texts ({plugin.Log.Length} log characters)");
    }

    /// <summary>Each root-key fault in turn, with calls that reach the root key while it is on, then recovery.</summary>
    private async Task DriveFaultsAsync(PluginProcess plugin, string faultsFile, int port, List<AcknowledgedCiphertext> acknowledged)
    {
        using var http = new HttpClient();
        foreach (var fault in new[] { "wrap=fail", "unwrap=fail", "all=fail-every:2", "all=slow:50ms", "all=hang" })
        {
            var applied = Regex.Count(plugin.Log, "injected root-key faults now");
            await File.WriteAllTextAsync(faultsFile, fault + "\n");
            await WaitForAsync(plugin, () => Task.FromResult(Regex.Count(plugin.Log, "injected root-key faults now") > applied), $"fault {fault}");

            var failed = 0;
            foreach (var v2 in new[] { false, true, false, true })
            {
                var plaintext = $"canary-under-{fault}-{Guid.NewGuid():N}";
                _scanner.AddSecret("plaintext sent under a fault", plaintext);
                failed += await FailsAsync(async () => acknowledged.Add(await AcknowledgedCiphertext.EncryptAsync(plugin, v2, Encoding.ASCII.GetBytes(plaintext))));
            }

            foreach (var item in acknowledged.Take(4).ToList())
            {
                failed += await FailsAsync(async () => Assert.Equal(item.Plaintext, await item.DecryptAsync(plugin)));
            }

            Assert.True(fault.Contains("slow", StringComparison.Ordinal) ? failed == 0 : failed > 0, $"{fault}: {failed} of 8 calls failed\n{plugin.Log}");
            var healthz = await http.GetAsync($"http://127.0.0.1:{port}/healthz");
            _scanner.AddText($"/healthz under {fault}", await healthz.Content.ReadAsStringAsync());
        }

        await File.WriteAllTextAsync(faultsFile, "all=off\n");
        await WaitForAsync(plugin, async () => await FailsAsync(() => acknowledged[0].DecryptAsync(plugin)) == 0, "recovery from the faults");
    }

    private async Task<int> FailsAsync(Func<Task> call)
    {
        try
        {
            await call();
            return 0;
        }
        catch (RpcException error)
        {
            _scanner.AddText($"gRPC error {error.StatusCode} under a fault", $"{error.Status.Detail} {error.Message}");
            return 1;
        }
    }

    private void AddRootAndDataKeys(List<AcknowledgedCiphertext> acknowledged)
    {
        foreach (var key in KeystoreSnapshot.Load(_files).Keys.Values)
        {
            _scanner.AddSecret("root key", key.Material);
        }

        using var keystore = KeystoreFile.Load(_files.Keystore, Encoding.UTF8.GetBytes(_files.Passphrase));
        using var rootKeys = new KeystoreRootKeyProvider(keystore);
        KmsCallSweep.AddDataKeysAsync(rootKeys, acknowledged, _scanner).GetAwaiter().GetResult();
    }

    private async Task<ProcessResult> CliAsync(params string[] arguments)
    {
        var result = await _files.CliAsync(arguments);
        _scanner.AddText($"kms-plugin {string.Join(' ', arguments.Take(2))}", result);
        return result;
    }

    private async Task RefusedAsync(string what, string expected, params string[] arguments)
    {
        var result = await PluginProcess.RunCliAsync(null, arguments);
        Assert.True(result.ExitCode != 0 && result.Error.Contains(expected, StringComparison.Ordinal), $"{what} was not refused:\n{result}");
        _scanner.AddText($"{what}: kms-plugin {arguments[0]}", result);
    }

    private string WrongPassphraseFile()
    {
        var path = _files.Directory.File("wrong-passphrase");
        var wrong = "wrong-passphrase-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(path, wrong);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _scanner.AddSecret("wrong passphrase", wrong);
        return path;
    }

    /// <summary>A keystore sealed with another passphrase, dropped over the served one.</summary>
    private async Task ReplaceWithForeignKeystoreAsync()
    {
        var foreign = _files.Directory.File("foreign/keystore.json");
        Directory.CreateDirectory(Path.GetDirectoryName(foreign)!);
        var made = await PluginProcess.RunCliAsync(null, "keystore", "init", "--keystore", foreign, "--passphrase-file", WrongPassphraseFile());
        Assert.True(made.ExitCode == 0, made.ToString());
        _scanner.AddText("foreign keystore init", made);
        File.Move(foreign, _files.Keystore, overwrite: true);
    }

    private static async Task WaitForAsync(PluginProcess plugin, Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} never showed:\n{plugin.Log}");
            await Task.Delay(100);
        }
    }
}
