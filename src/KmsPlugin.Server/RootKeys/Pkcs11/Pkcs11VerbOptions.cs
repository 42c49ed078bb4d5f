using System.CommandLine;
using KmsPlugin.Server.Configuration;

namespace KmsPlugin.Server.RootKeys.Pkcs11;

/// <summary>
/// The token selection and PIN settings every `pkcs11` verb takes: serve's rows, so the same flags,
/// variables and config keys; the verbs' older flag names stay as deprecated aliases.
/// </summary>
internal sealed class Pkcs11VerbOptions
{
    private readonly VerbSettings _settings = new(
        [Pkcs11Settings.Module, Pkcs11Settings.Token, Pkcs11Settings.TokenSerialSetting, Pkcs11Settings.PinFileSetting],
        new Dictionary<ServeSetting, string>
        {
            [Pkcs11Settings.Module] = "--module",
            [Pkcs11Settings.Token] = "--token",
            [Pkcs11Settings.TokenSerialSetting] = "--token-serial",
            [Pkcs11Settings.PinFileSetting] = "--pin-file",
        });

    public void AddTo(Command command) => _settings.AddTo(command);

    /// <summary>The module, token, serial and PIN file as given; problems with the config file are added.</summary>
    public Pkcs11Settings Read(ParseResult parse, List<string> problems)
    {
        var sources = _settings.Resolve(parse, problems);
        return new Pkcs11Settings
        {
            ModulePath = sources.Resolve(Pkcs11Settings.Module).Text,
            TokenLabel = sources.Resolve(Pkcs11Settings.Token).Text,
            TokenSerial = sources.Resolve(Pkcs11Settings.TokenSerialSetting).Text,
            PinFile = sources.Resolve(Pkcs11Settings.PinFileSetting).Text,
        };
    }
}
