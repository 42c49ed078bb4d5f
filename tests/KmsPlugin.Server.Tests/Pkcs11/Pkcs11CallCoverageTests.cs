using System.Security.Cryptography;
using Google.Protobuf;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;
using V1 = KmsPlugin.Protocol.V1Beta1;

namespace KmsPlugin.Server.Tests.Pkcs11;

/// <summary>
/// Every PKCS#11 call the plugin makes, through the executable alone (no in-process key set-up).
/// scripts/test.sh runs it against the NativeAOT binary, where each call goes through a marshalling
/// stub that Pkcs11Interop.rd.xml asks ILC for: a Pkcs11Interop upgrade that needs another one
/// fails here, not on a control-plane node.
/// </summary>
[Collection(SoftHsmCollection.Name)]
[Trait(PluginExecutable.Trait, PluginExecutable.Category)]
public sealed class Pkcs11CallCoverageTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public Pkcs11CallCoverageTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Keygen_promote_list_serve_and_stop_use_every_call_on_softhsm()
    {
        var token = SoftHsm.CreateToken();
        var pinFile = _dir.File("pin");
        await File.WriteAllTextAsync(pinFile, token.Pin + "\n");
        File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string[] admin = ["--module", SoftHsm.ModulePath, "--token", token.Label, "--pin-file", pinFile];

        // C_Initialize, C_GetSlotList, C_GetTokenInfo (token by label), C_OpenSession, C_Login,
        // C_GetMechanismList, C_GenerateKey, C_GetAttributeValue, C_FindObjectsInit/C_FindObjects/
        // C_FindObjectsFinal, C_CreateObject (promotion record), C_CloseSession, C_Finalize.
        await CliAsync(["pkcs11", "keygen", .. admin, "--label", "first", "--primary"], "generated AES-256 key \"first\"");
        await CliAsync(["pkcs11", "keygen", .. admin, "--label", "second"], "generated AES-256 key \"second\"");
        // C_DestroyObject (the old promotion record) and C_CreateObject.
        await CliAsync(["pkcs11", "promote", .. admin, "--label", "second"], "promotion record: first -> second");
        var list = await CliAsync(["pkcs11", "list", .. admin, "--json"], "\"label\":\"second\"");
        Assert.Contains("\"primaries\":[\"first\",\"second\"]", list);

        var wrong = _dir.File("wrong-pin");
        await File.WriteAllTextAsync(wrong, "not-the-pin\n");
        File.SetUnixFileMode(wrong, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var refused = await PluginProcess.RunCliAsync(SoftHsm.Environment, ["pkcs11", "list", "--module", SoftHsm.ModulePath, "--token", token.Label, "--pin-file", wrong]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"PKCS#11 login to token \"{token.Label}\" failed: wrong PIN", refused.Error);

        var socket = _dir.File("kms.sock");
        var plugin = await PluginProcess.StartAsync(socket, SoftHsm.Environment, ["--provider", "pkcs11", "--pkcs11-module", SoftHsm.ModulePath, "--pkcs11-token", token.Label,
            "--pkcs11-key", "second", "--pkcs11-decrypt-key", "first", "--pkcs11-pin-file", pinFile]);
        await using (plugin)
        {
            // C_EncryptInit/C_Encrypt (also each key's check value at start-up) and C_DecryptInit/
            // C_Decrypt with CKM_AES_GCM, from a session pool.
            var plain = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32));
            var cipher = (await plugin.V1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = plain })).Cipher;
            Assert.Equal(plain, (await plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = cipher })).Plain);
            Assert.Equal("p11-second@2", (await plugin.V2.StatusAsync(new Protocol.V2.StatusRequest())).KeyId);
            var v2 = await GoClient.RunAsync("-api", "v2", "-socket", socket, "-authority", "localhost", "-mode", "check", "-timeout", "60s");
            Assert.True(v2.ExitCode == 0, v2 + plugin.Log);

            // C_CloseSession for every pooled session and C_Finalize on the way out.
            Assert.Equal(0, await plugin.TerminateAsync());
            _output.WriteLine(plugin.Log);
            Assert.DoesNotContain(token.Pin, plugin.Log);
        }
    }

    private async Task<string> CliAsync(string[] arguments, string expected)
    {
        var result = await PluginProcess.RunCliAsync(SoftHsm.Environment, arguments);
        _output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(expected, result.Output);
        return result.Output;
    }
}
