using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Pkcs11;

/// <summary>`kms-plugin pkcs11 keygen|promote|list` against SoftHSM tokens, as separate processes.</summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11CommandTests
{
    [Fact]
    public async Task Keygen_refuses_an_existing_label_and_list_shows_keys_and_the_promotion_record()
    {
        var token = SoftHsm.CreateToken();
        var environment = SoftHsm.Environment;
        environment["KMS_PLUGIN_PKCS11_MODULE"] = SoftHsm.ModulePath;
        environment["KMS_PLUGIN_PKCS11_TOKEN"] = token.Label;
        environment["KMS_PLUGIN_PKCS11_PIN"] = token.Pin;

        var first = await PluginProcess.RunCliAsync(environment, "pkcs11", "keygen", "--label", "k1", "--primary");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("promotion record: k1; primary \"k1\", KMS v2 key_id p11-k1@1", first.Output);

        var again = await PluginProcess.RunCliAsync(environment, "pkcs11", "keygen", "--label", "k1");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains($"token \"{token.Label}\" already has an AES key labelled \"k1\"; labels are never reused", again.Error);

        var invalid = await PluginProcess.RunCliAsync(environment, "pkcs11", "keygen", "--label", "k/2");
        Assert.NotEqual(0, invalid.ExitCode);
        Assert.Contains("key label \"k/2\" is not valid", invalid.Error);

        var list = await PluginProcess.RunCliAsync(environment, "pkcs11", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(token.Label, list.Output);
        Assert.Matches(@"k1 +[0-9a-f]{32} +yes +yes +primary or decrypt-only", list.Output);
        Assert.Contains("promotion record: k1;", list.Output);
        Assert.DoesNotContain(token.Pin, list.Output + list.Error);
    }

    [Fact]
    public async Task The_pin_is_never_taken_from_the_command_line_and_a_wrong_pin_is_named()
    {
        var token = SoftHsm.CreateToken();
        var onArgv = await PluginProcess.RunCliAsync(SoftHsm.Environment, "pkcs11", "keygen", "--module", SoftHsm.ModulePath, "--token", token.Label, "--pin", token.Pin, "--label", "k");
        Assert.NotEqual(0, onArgv.ExitCode);

        var environment = SoftHsm.Environment;
        environment["KMS_PLUGIN_PKCS11_PIN"] = "wrong-pin";
        var wrong = await PluginProcess.RunCliAsync(environment, "pkcs11", "promote", "--module", SoftHsm.ModulePath, "--token", token.Label, "--label", "k");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains($"PKCS#11 login to token \"{token.Label}\" failed: wrong PIN", wrong.Error);
        Assert.DoesNotContain("wrong-pin", wrong.Error);

        var noPin = await PluginProcess.RunCliAsync(SoftHsm.Environment, "pkcs11", "keygen", "--module", SoftHsm.ModulePath, "--token", token.Label, "--label", "k");
        Assert.Equal(2, noPin.ExitCode);
        Assert.Contains("no PKCS#11 user PIN: give --pin-file", noPin.Error);
    }
}
