using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using KmsPlugin.Protocol.V2;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>Rotation without restart: the running plugin follows its keystore file and SIGHUP.</summary>
[Trait(PluginExecutable.Trait, PluginExecutable.Category)]
public sealed class KeystoreReloadTests : IDisposable
{
    private readonly KeystoreFiles _files = new("reload test passphrase");
    private readonly ITestOutputHelper _output;

    public KeystoreReloadTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task A_promotion_takes_effect_without_restart_and_a_bad_file_keeps_the_running_ring()
    {
        await _files.CliAsync("keystore", "init");
        await using var plugin = await PluginProcess.StartAsync(_files.Directory.File("kms.sock"), null, _files.Args);
        var before = (await plugin.V2.StatusAsync(new StatusRequest())).KeyId;
        var old = await plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(new byte[32]), Uid = "u1" });

        var added = JsonDocument.Parse((await _files.CliAsync("keystore", "add", "--json")).Output).RootElement[0].GetProperty("id").GetString()!;
        await _files.CliAsync("keystore", "promote", added);

        await plugin.WaitForKeyIdAsync($"{added}@2");
        var fresh = await plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(new byte[32]), Uid = "u2" });
        Assert.Equal($"{added}@2", fresh.KeyId);
        var decrypted = await plugin.V2.DecryptAsync(new DecryptRequest { Ciphertext = old.Ciphertext, KeyId = old.KeyId, Uid = "u3" });
        Assert.Equal(new byte[32], decrypted.Plaintext.ToByteArray());
        Assert.NotEqual(before, fresh.KeyId);

        // Someone drops a keystore sealed with another passphrase over the file.
        var stranger = _files.Directory.File("other/keystore.json");
        var otherPassphrase = _files.Directory.File("other-passphrase");
        Directory.CreateDirectory(Path.GetDirectoryName(stranger)!);
        await File.WriteAllTextAsync(otherPassphrase, "another passphrase");
        File.SetUnixFileMode(otherPassphrase, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var made = await PluginProcess.RunCliAsync(null, "keystore", "init", "--keystore", stranger, "--passphrase-file", otherPassphrase);
        Assert.True(made.ExitCode == 0, made.ToString());
        File.Move(stranger, _files.Keystore, overwrite: true);

        await plugin.WaitForLogAsync("root key reload failed; the running key ring is unchanged");
        Assert.Equal($"{added}@2", (await plugin.V2.StatusAsync(new StatusRequest())).KeyId);
        Assert.Equal("ok", (await plugin.V2.StatusAsync(new StatusRequest())).Healthz);
        Assert.DoesNotContain(_files.Passphrase, plugin.Log);

        await plugin.HangUpAsync();
        await plugin.WaitForLogAsync("SIGHUP: reloading root keys");
        Assert.Equal("ok", (await plugin.V2.StatusAsync(new StatusRequest())).Healthz);
    }

    [Fact]
    public async Task Under_16_callers_a_promotion_switches_new_ciphertexts_and_a_corrupt_edit_is_refused_without_a_failed_call()
    {
        await _files.CliAsync("keystore", "init");
        await using var plugin = await PluginProcess.StartAsync(_files.Directory.File("kms.sock"), null, _files.Args);
        var oldKeyId = (await plugin.V2.StatusAsync(new StatusRequest())).KeyId;
        using var load = new CallerLoad(plugin, callers: 16);
        await load.WaitForCallsAsync(200);

        var added = JsonDocument.Parse((await _files.CliAsync("keystore", "add", "--json")).Output).RootElement[0].GetProperty("id").GetString()!;
        await _files.CliAsync("keystore", "promote", added);
        var promoted = load.Clock.Elapsed;
        var newKeyId = $"{added}@2";
        var switched = await load.WaitForKeyIdAsync(newKeyId, TimeSpan.FromSeconds(20));
        var switchTime = switched - promoted;

        // A hand edit that breaks the file, written in place (not atomically) as an editor might.
        var callsBeforeCorruption = load.Calls;
        var text = await File.ReadAllTextAsync(_files.Keystore);
        await File.WriteAllTextAsync(_files.Keystore, text[..(text.Length / 2)]);
        await plugin.WaitForLogAsync("root key reload failed; the running key ring is unchanged");
        await load.WaitForCallsAsync(callsBeforeCorruption + 200);
        var summary = await load.StopAsync();
        _output.WriteLine($"promotion seen by callers after {switchTime.TotalSeconds:0.00} s; {summary.Calls} round trips by 16 callers in {load.Clock.Elapsed.TotalSeconds:0.0} s");

        Assert.True(summary.Failures.Count == 0, $"{summary.Failures.Count} calls failed, first: {summary.Failures.FirstOrDefault()}");
        Assert.Equal(0, summary.WrongPlaintexts);
        Assert.Equal(0, summary.OldKeyAfterSwitch);
        Assert.Contains(oldKeyId, summary.KeyIds);
        Assert.Contains(newKeyId, summary.KeyIds);
        Assert.True(switchTime < TimeSpan.FromSeconds(20), $"switched after {switchTime}");
        var status = await plugin.V2.StatusAsync(new StatusRequest());
        Assert.Equal(newKeyId, status.KeyId);
        Assert.Equal("ok", status.Healthz);
    }
}
