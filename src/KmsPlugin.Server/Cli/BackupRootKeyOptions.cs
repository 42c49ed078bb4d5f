using System.CommandLine;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.Etcd;
using KmsPlugin.Server.RootKeys;

namespace KmsPlugin.Server.Cli;

/// <summary>
/// `serve`'s root-key settings on `etcd verify`, for the backup drill: the same flags, variables and
/// checks, so the command that proves a backup takes exactly what would serve from it.
/// </summary>
internal sealed class BackupRootKeyOptions
{
    /// <summary>Not serve's 2s: nobody waits on this call but the operator, and HSM backups can be slow.</summary>
    private static readonly TimeSpan RootKeyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Every root-key setting but <c>--dev</c>: an ephemeral key has no backup.</summary>
    private static readonly ServeSetting[] Settings = [.. RootKeyModules.Settings.Where(s => s != RootKeyModules.Dev)];

    private readonly VerbSettings _settings = new(Settings);

    public void AddTo(Command command) => _settings.AddTo(command);

    /// <summary>True when any root-key flag, or <c>--config</c>, is on the command line: the offline (backup) mode.</summary>
    public bool Given(ParseResult parse) => _settings.Given(parse);

    /// <summary>Checks the settings as `serve` does, adding every problem; null when unusable.</summary>
    public (IRootKeySource? Source, IRootKeyModule Module) Resolve(ParseResult parse, List<string> problems)
    {
        var settings = ServeConfiguration.Resolve(_settings.Resolve(parse, problems), problems);
        if (!settings.RootKeys.Configured(settings))
        {
            problems.Add($"the backup's root keys: give {RootKeyModules.NoBackupSelected}");
            return (null, settings.RootKeys);
        }

        return (settings.RootKeys.Check(settings, problems), settings.RootKeys);
    }

    /// <summary>
    /// Loads the root keys read-only (a keystore is only read; a token is only logged into) and
    /// returns the checker that owns them. Throws <see cref="KmsException"/> with one line when they
    /// cannot be used: a wrong passphrase, not a keystore, a token that is not there.
    /// </summary>
    public static BackupKeyChecker Open(IRootKeySource source, IRootKeyModule module)
    {
        var rootKeys = source.Open();
        if (module.Unavailable(rootKeys) is { } failure)
        {
            (rootKeys as IDisposable)?.Dispose();
            throw new KmsException(failure.Kind, failure.Message);
        }

        return new BackupKeyChecker(rootKeys, RootKeyTimeout);
    }
}
