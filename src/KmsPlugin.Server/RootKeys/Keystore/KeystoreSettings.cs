using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Configuration;

namespace KmsPlugin.Server.RootKeys.Keystore;

/// <summary>The software keystore's rows in the settings table, and their values once resolved.</summary>
internal sealed record KeystoreSettings(string? KeystorePath, string? PassphraseFile)
{
    public static readonly ServeSetting Dev = new("dev", "--dev", null, SettingKind.Switch,
        null, "Serve with an ephemeral in-memory root key. Data encrypted this way is lost when the process exits: never for production");

    public static readonly ServeSetting Keystore = new("keystore.path", "--keystore", EnvironmentVariables.Keystore, SettingKind.Text,
        null, "Keystore file holding the software root keys", RuntimeChangeable: true);

    public static readonly ServeSetting PassphraseFileSetting = new("keystore.passphraseFile", "--passphrase-file", EnvironmentVariables.PassphraseFile, SettingKind.Text,
        null, $"File holding the keystore passphrase (or the passphrase itself in {EnvironmentVariables.Passphrase}; never on the command line)", RuntimeChangeable: true);

    public static SecretSource Passphrase { get; } =
        new("passphrase", "keystore passphrase", EnvironmentVariables.PassphraseFile, EnvironmentVariables.Passphrase);

    public static KeystoreSettings Read(Func<ServeSetting, ConfigValue> value, SettingParser parse) =>
        new(parse.FullPath(value(Keystore)), value(PassphraseFileSetting).Text);
}
