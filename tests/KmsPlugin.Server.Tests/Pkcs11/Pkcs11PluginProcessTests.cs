using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Pkcs11;

/// <summary>`kms-plugin serve --provider pkcs11` as an operator runs it, with SoftHSM tokens.</summary>
[Collection(SoftHsmCollection.Name)]
[Trait(PluginExecutable.Trait, PluginExecutable.Category)]
public sealed class Pkcs11PluginProcessTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public Pkcs11PluginProcessTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_go_client_checks_v1_and_v2_against_a_softhsm_root_key()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "root");
        var socket = _dir.File("kms.sock");
        await using var plugin = await PluginProcess.StartAsync(socket, Environment(token), Serve(token, "root"));

        var v1 = await GoClient.RunAsync("-socket", socket, "-authority", "raw", "-mode", "check");
        _output.WriteLine(v1.ToString());
        Assert.True(v1.ExitCode == 0, v1 + plugin.Log);
        var v2 = await GoClient.RunAsync("-api", "v2", "-socket", socket, "-authority", "localhost", "-mode", "check");
        _output.WriteLine(v2.ToString());
        Assert.True(v2.ExitCode == 0, v2 + plugin.Log);
        Assert.DoesNotContain(token.Pin, plugin.Log);
    }

    [Fact]
    public async Task Rotation_on_the_hsm_keeps_old_ciphertexts_readable_and_new_ones_carry_the_new_id()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "first");
        var socket = _dir.File("kms.sock");
        var plain = RandomNumberGenerator.GetBytes(32);
        var pinFile = _dir.File("pin");
        await File.WriteAllTextAsync(pinFile, token.Pin + "\n");
        File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var environment = SoftHsm.Environment;

        V2.EncryptResponse old;
        await using (var plugin = await PluginProcess.StartAsync(socket, environment, [.. Serve(token, "first"), "--pkcs11-pin-file", pinFile]))
        {
            var client = V2Client(socket);
            Assert.Equal("p11-first@1", (await client.StatusAsync(new V2.StatusRequest())).KeyId);
            old = await client.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(plain), Uid = "u" });
            Assert.Equal("p11-first@1", old.KeyId);
            Assert.Equal(0, await plugin.TerminateAsync());
        }

        var keygen = await PluginProcess.RunCliAsync(environment, "pkcs11", "keygen", "--module", SoftHsm.ModulePath, "--token", token.Label, "--pin-file", pinFile, "--label", "second");
        Assert.True(keygen.ExitCode == 0, keygen.ToString());
        var promote = await PluginProcess.RunCliAsync(environment, "pkcs11", "promote", "--module", SoftHsm.ModulePath, "--token", token.Label, "--pin-file", pinFile, "--label", "second");
        Assert.True(promote.ExitCode == 0, promote.ToString());
        Assert.Contains("promotion record: first -> second; primary \"second\", KMS v2 key_id p11-second@2", promote.Output);

        var list = await PluginProcess.RunCliAsync(environment, "pkcs11", "list", "--module", SoftHsm.ModulePath, "--token", token.Label, "--pin-file", pinFile, "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("\"label\":\"second\"", list.Output);
        Assert.Contains("\"primaries\":[\"first\",\"second\"]", list.Output);

        // Serving the old primary after the promotion is refused with the fix.
        var stale = await PluginProcess.RunCliAsync(environment, ["serve", "--socket", _dir.File("stale.sock"), .. Serve(token, "first"), "--pkcs11-pin-file", pinFile]);
        Assert.Equal(2, stale.ExitCode);
        Assert.Contains("the token's promotion record says the primary is \"second\"; run `kms-plugin pkcs11 promote --label first`", stale.Error);

        await using (var plugin = await PluginProcess.StartAsync(socket, environment, [.. Serve(token, "second"), "--pkcs11-decrypt-key", "first", "--pkcs11-pin-file", pinFile]))
        {
            var client = V2Client(socket);
            Assert.Equal("p11-second@2", (await client.StatusAsync(new V2.StatusRequest())).KeyId);
            var decrypted = await client.DecryptAsync(new V2.DecryptRequest { Ciphertext = old.Ciphertext, KeyId = old.KeyId, Uid = "u" });
            Assert.Equal(plain, decrypted.Plaintext.ToByteArray());
            var fresh = await client.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(plain), Uid = "u" });
            Assert.Equal("p11-second@2", fresh.KeyId);
            Assert.Equal(plain, (await client.DecryptAsync(new V2.DecryptRequest { Ciphertext = fresh.Ciphertext, KeyId = fresh.KeyId, Uid = "u" })).Plaintext.ToByteArray());
        }
    }

    [Fact]
    public async Task Started_while_the_token_is_missing_status_is_unhealthy_encrypt_unavailable_then_healthy_without_restart()
    {
        _ = SoftHsm.ConfigPath;
        var label = "late-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var token = new SoftHsmToken(label, "pin-1234", "");
        var socket = _dir.File("kms.sock");
        await using var plugin = await PluginProcess.StartAsync(socket, Environment(token), Serve(token, "root"));

        var status = await PluginProcess.RunCliAsync(null, "status", "--socket", socket);
        Assert.NotEqual(0, status.ExitCode);
        Assert.Contains($"PKCS#11 token \"{label}\" not found", status.Output + status.Error);
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await plugin.V1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(new byte[32]) }));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("Root keys unavailable at start-up", plugin.Log);

        SoftHsm.Util("--init-token", "--free", "--label", label, "--pin", token.Pin, "--so-pin", "so-1234");
        var keygen = await PluginProcess.RunCliAsync(Environment(token), "pkcs11", "keygen", "--module", SoftHsm.ModulePath, "--token", label, "--label", "root", "--primary");
        Assert.True(keygen.ExitCode == 0, keygen.ToString());

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        do
        {
            await Task.Delay(500);
            status = await PluginProcess.RunCliAsync(null, "status", "--socket", socket);
        }
        while (status.ExitCode != 0 && DateTime.UtcNow < deadline);

        Assert.True(status.ExitCode == 0, status + plugin.Log);
        Assert.Contains("key_id=p11-root@1", status.Output);
        var encrypted = await plugin.V1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(new byte[32]) });
        Assert.False(encrypted.Cipher.IsEmpty);
    }

    [Fact]
    public async Task Configuration_problems_are_reported_together_and_a_wrong_pin_at_start_up()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "root");
        var missing = await PluginProcess.RunCliAsync(new Dictionary<string, string>(SoftHsm.Environment),
            "serve", "--socket", _dir.File("a.sock"), "--provider", "pkcs11", "--pkcs11-module", "/nonexistent/lib.so", "--pkcs11-token", token.Label, "--pkcs11-key", "bad label");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no PKCS#11 user PIN", missing.Error);
        Assert.Contains("PKCS#11 module \"/nonexistent/lib.so\" does not exist", missing.Error);
        Assert.Contains("key label \"bad label\" is not valid", missing.Error);

        var wrong = Environment(token with { Pin = "not-the-pin" });
        var result = await PluginProcess.RunCliAsync(wrong, ["serve", "--socket", _dir.File("b.sock"), .. Serve(token, "root")]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"PKCS#11 login to token \"{token.Label}\" failed: wrong PIN", result.Error);
        Assert.DoesNotContain("not-the-pin", result.Error + result.Output);

        var noKey = await PluginProcess.RunCliAsync(Environment(token), ["serve", "--socket", _dir.File("c.sock"), .. Serve(token, "nope")]);
        Assert.Equal(2, noKey.ExitCode);
        Assert.Contains($"root key \"p11-nope\": no AES key labelled \"nope\" on token \"{token.Label}\"", noKey.Error);
    }

    private static string[] Serve(SoftHsmToken token, string key) =>
        ["--provider", "pkcs11", "--pkcs11-module", SoftHsm.ModulePath, "--pkcs11-token", token.Label, "--pkcs11-key", key];

    private static Dictionary<string, string> Environment(SoftHsmToken token)
    {
        var environment = SoftHsm.Environment;
        environment["KMS_PLUGIN_PKCS11_PIN"] = token.Pin;
        return environment;
    }

    private static V2.KeyManagementService.KeyManagementServiceClient V2Client(string socket) =>
        new(UnixSocketClient.Create(socket));
}
