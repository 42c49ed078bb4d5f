using System.CommandLine;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Configuration;

namespace KmsPlugin.Server.RootKeys.Keystore;

/// <summary>Root keys in a software keystore file (<c>--provider software</c>, the default).</summary>
internal sealed class KeystoreModule : IRootKeyModule
{
    public const string Name = "software";

    public string? ProviderName => Name;

    public IReadOnlyList<ServeSetting> Settings { get; } = [KeystoreSettings.Keystore, KeystoreSettings.PassphraseFileSetting];

    public IReadOnlyList<SecretSource> Secrets { get; } = [KeystoreSettings.Passphrase];

    public IReadOnlyList<string> RefusedFlags { get; } = ["--passphrase", "--password"];

    public string? SecretHint =>
        $"the keystore passphrase with --passphrase-file, {EnvironmentVariables.PassphraseFile} or {EnvironmentVariables.Passphrase}";

    public IReadOnlyDictionary<string, ServeSetting> SecretConfigKeys { get; } = new Dictionary<string, ServeSetting>(StringComparer.OrdinalIgnoreCase)
    {
        ["passphrase"] = KeystoreSettings.PassphraseFileSetting,
        ["password"] = KeystoreSettings.PassphraseFileSetting,
    };

    public bool Selects(string provider, bool dev) => provider == Name && !dev;

    public object ReadSettings(Func<ServeSetting, ConfigValue> value, SettingParser parse) => KeystoreSettings.Read(value, parse);

    public bool Configured(ServeConfiguration settings) => settings.RootKeySettings<KeystoreSettings>(this).KeystorePath is not null;

    public IRootKeySource? Check(ServeConfiguration settings, List<string> problems)
    {
        var (keystorePath, passphraseFile) = settings.RootKeySettings<KeystoreSettings>(this);
        if (keystorePath is null)
        {
            problems.Add($"no root keys: give --keystore (or {EnvironmentVariables.Keystore}, or keystore.path in the config file), or --dev for an ephemeral development key");
        }
        else if (!File.Exists(keystorePath))
        {
            problems.Add($"keystore \"{keystorePath}\" does not exist; create it with `kms-plugin keystore init`");
        }

        var passphrase = KeystoreSettings.Passphrase.Read(passphraseFile, "--passphrase-file (config keystore.passphraseFile)", problems);
        return keystorePath is null || passphrase is null ? null : new KeystoreSource(Path.GetFullPath(keystorePath), passphrase);
    }

    public IEnumerable<string> WatchedFiles(ServeConfiguration running, IRootKeyProvider provider) =>
        running.RootKeySettings<KeystoreSettings>(this).KeystorePath is { } keystore && provider is KeystoreRootKeyProvider ? [keystore] : [];

    public void CheckReload(ServeConfiguration next, List<string> problems)
    {
        if (next.RootKeySettings<KeystoreSettings>(this).KeystorePath is null)
        {
            problems.Add($"no keystore: {KeystoreSettings.Keystore.Key} (or {KeystoreSettings.Keystore.Flag}) is required by the software provider");
        }
    }

    public string Reload(ServeConfiguration next, IRootKeyProvider provider)
    {
        var (keystorePath, passphraseFile) = next.RootKeySettings<KeystoreSettings>(this);
        return provider is KeystoreRootKeyProvider software
            ? KeystoreReload.Reload(keystorePath!, passphraseFile, software)
            : "development key unchanged";
    }

    public Command? CreateCommand() => KeystoreCommand.Create();

    public void OnStarted(IRootKeyProvider provider, ILoggerFactory loggers)
    {
    }

    public KmsException? Unavailable(IRootKeyProvider provider) => null;
}
