using System.CommandLine;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Pkcs11;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.Etcd;

namespace KmsPlugin.Server.Cli;

/// <summary>
/// `serve`'s root-key settings on `etcd verify`, for the backup drill: the same flags, variables and
/// checks, so the command that proves a backup takes exactly what would serve from it.
/// </summary>
internal sealed class BackupRootKeyOptions
{
    /// <summary>Not serve's 2s: nobody waits on this call but the operator, and HSM backups can be slow.</summary>
    private static readonly TimeSpan RootKeyTimeout = TimeSpan.FromSeconds(30);

    private static readonly ServeSetting[] Settings =
    [
        ServeSettings.Provider, ServeSettings.Keystore, ServeSettings.PassphraseFile,
        ServeSettings.Pkcs11Module, ServeSettings.Pkcs11Token, ServeSettings.Pkcs11TokenSerial, ServeSettings.Pkcs11PinFile,
        ServeSettings.Pkcs11Key, ServeSettings.Pkcs11DecryptKeys, ServeSettings.Pkcs11MaxSessions, ServeSettings.Pkcs11CallTimeout,
    ];

    private readonly Dictionary<ServeSetting, Option> _options = Settings.ToDictionary(s => s, s => s.CreateOption());

    public void AddTo(Command command)
    {
        foreach (var option in _options.Values)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>True when any root-key flag is on the command line: the offline (backup) mode.</summary>
    public bool Given(ParseResult parse) => _options.Values.Any(option => parse.GetResult(option) is { Implicit: false });

    /// <summary>Checks the settings as `serve` does, adding every problem; null when unusable.</summary>
    public (RootKeySource? Source, string Description) Resolve(ParseResult parse, List<string> problems)
    {
        var sources = new SettingSources(
            setting => _options.TryGetValue(setting, out var option) ? ServeCommand.FlagValue(parse, setting, option) : null,
            file: null,
            name => Settings.Any(s => s.EnvironmentVariable == name) ? EnvironmentVariables.Get(name) : null);
        var settings = ServeConfiguration.Resolve(sources, problems);
        if (settings.Provider == ServeConfiguration.Pkcs11Provider)
        {
            return (RootKeySource.ForPkcs11(settings.Pkcs11, problems), $"PKCS#11 token \"{settings.Pkcs11.TokenLabel}\"");
        }

        if (settings.KeystorePath is null)
        {
            problems.Add($"the backup's root keys: give {ServeSettings.Keystore.Flag} and {ServeSettings.PassphraseFile.Flag}, or {ServeSettings.Provider.Flag} pkcs11 with the token's settings");
            return (null, "");
        }

        return (RootKeySource.ForKeystore(settings.KeystorePath, settings.PassphraseFile, problems), $"keystore \"{settings.KeystorePath}\"");
    }

    /// <summary>
    /// Loads the root keys read-only (a keystore is only read; a token is only logged into) and
    /// returns the checker that owns them. Throws <see cref="KmsException"/> with one line when they
    /// cannot be used: a wrong passphrase, not a keystore, a token that is not there.
    /// </summary>
    public static BackupKeyChecker Open(RootKeySource source)
    {
        var rootKeys = source.Open();
        if (rootKeys is Pkcs11RootKeyProvider { Failure: { } failure } disconnected)
        {
            disconnected.Dispose();
            throw new KmsException(failure.Kind, failure.Message);
        }

        return new BackupKeyChecker(rootKeys, RootKeyTimeout);
    }
}
