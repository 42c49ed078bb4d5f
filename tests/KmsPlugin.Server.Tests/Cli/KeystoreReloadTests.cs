using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using KmsPlugin.Protocol.V2;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>Rotation without restart: the running plugin follows its keystore file and SIGHUP.</summary>
public sealed class KeystoreReloadTests : IDisposable
{
    private readonly KeystoreFiles _files = new("reload test passphrase");

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
}
