using System.Text.RegularExpressions;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Pkcs11;

/// <summary>The `pkcs11` verbs read serve's settings: `--config`, the serve flag names, and the old names with a deprecation note.</summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11VerbConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Pkcs11_verbs_take_the_module_token_and_pin_file_from_config()
    {
        var token = SoftHsm.CreateToken();
        var pinFile = _dir.File("pin");
        File.WriteAllText(pinFile, token.Pin);
        File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var config = _dir.File("config.yaml");
        File.WriteAllText(config, $"pkcs11:\n  module: {SoftHsm.ModulePath}\n  token: {token.Label}\n  pinFile: {pinFile}\n");

        var keygen = await PluginProcess.RunCliAsync(SoftHsm.Environment, "pkcs11", "keygen", "--config", config, "--label", "k1", "--primary");
        var list = await PluginProcess.RunCliAsync(SoftHsm.Environment, "pkcs11", "list", "--config", config);
        var byServeNames = await PluginProcess.RunCliAsync(SoftHsm.Environment, "pkcs11", "list", "--pkcs11-module", SoftHsm.ModulePath, "--pkcs11-token", token.Label, "--pkcs11-pin-file", pinFile);

        Assert.True(keygen.ExitCode == 0, keygen.ToString());
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("promotion record: k1;", list.Output);
        Assert.True(byServeNames.ExitCode == 0, byServeNames.ToString());
        Assert.Contains("promotion record: k1;", byServeNames.Output);
    }

    [Fact]
    public async Task Help_says_the_old_flag_names_are_deprecated()
    {
        var help = await PluginProcess.RunCliAsync(null, "pkcs11", "list", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("(--module is deprecated: use --pkcs11-module)", Regex.Replace(help.Output, @"\s+", " "));
        Assert.Contains("(--pin-file is deprecated: use --pkcs11-pin-file)", Regex.Replace(help.Output, @"\s+", " "));
    }
}
