using Google.Protobuf;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using KmsPlugin.Server.Tests.Support;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Pkcs11;

/// <summary>HSM rotation without a restart: the running plugin follows `pkcs11.key` in its config file.</summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11ConfigReloadTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_promotion_applied_in_the_config_file_takes_effect_without_restart_and_a_wrong_label_keeps_the_running_keys()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "first", "second");
        var pinFile = _dir.File("pin");
        await File.WriteAllTextAsync(pinFile, token.Pin + "\n");
        File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var config = _dir.File("config.yaml");
        var socket = _dir.File("kms.sock");
        await WriteConfigAsync(config, token, pinFile, "key: first");
        await using var plugin = await PluginProcess.StartAsync(socket, SoftHsm.Environment, "--config", config);
        Assert.Equal("p11-first@1", (await plugin.V2.StatusAsync(new V2.StatusRequest())).KeyId);
        var plain = ByteString.CopyFromUtf8("encrypted under the first root key");
        var old = await plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = plain, Uid = "u1" });

        var promote = await PluginProcess.RunCliAsync(SoftHsm.Environment, "pkcs11", "promote", "--module", SoftHsm.ModulePath, "--token", token.Label, "--pin-file", pinFile, "--label", "second");
        Assert.True(promote.ExitCode == 0, promote.ToString());
        await WriteConfigAsync(config, token, pinFile, "key: second\n  decryptKeys: [first]");

        await plugin.WaitForKeyIdAsync("p11-second@2");
        await plugin.WaitForLogAsync("root keys reloaded: primary key_id p11-second@2, 2 root keys on token");
        var fresh = await plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = plain, Uid = "u2" });
        Assert.Equal("p11-second@2", fresh.KeyId);
        Assert.Equal(plain, (await plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = old.Ciphertext, KeyId = old.KeyId, Uid = "u3" })).Plaintext);

        // A label the token does not have: refused with the reason, the running keys stay.
        await WriteConfigAsync(config, token, pinFile, "key: third\n  decryptKeys: [second, first]");
        await plugin.WaitForLogAsync("root key reload failed; the running key ring is unchanged");
        Assert.Contains($"no AES key labelled \"third\" on token \"{token.Label}\"", plugin.Log);
        Assert.Equal("p11-second@2", (await plugin.V2.StatusAsync(new V2.StatusRequest())).KeyId);
        Assert.Equal("ok", (await plugin.V2.StatusAsync(new V2.StatusRequest())).Healthz);
        Assert.Equal(plain, (await plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = old.Ciphertext, KeyId = old.KeyId, Uid = "u4" })).Plaintext);
        Assert.DoesNotContain(token.Pin, plugin.Log);
    }

    private static async Task WriteConfigAsync(string path, SoftHsmToken token, string pinFile, string keys)
    {
        var staging = path + ".new";
        await File.WriteAllTextAsync(staging, $"""
            provider: pkcs11
            pkcs11:
              module: {SoftHsm.ModulePath}
              token: {token.Label}
              pinFile: {pinFile}
              {keys}
            """);
        File.Move(staging, path, overwrite: true);
    }
}
