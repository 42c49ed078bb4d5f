using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.Observability;

namespace KmsPlugin.Server.Hosting;

/// <summary>
/// What `serve` does on SIGHUP or when its config file or keystore changes: read the config file
/// again, merge it with the same flags and variables, check everything, then reload the root keys
/// (another keystore path or passphrase file; another PKCS#11 primary or decrypt-only set and the
/// token's promotion record) and apply the log level. Settings that only a restart can apply are
/// logged as such and keep their running value. Anything failing leaves everything as it was.
/// </summary>
internal sealed partial class ServeSettingsReload
{
    private readonly string? _configPath;
    private readonly Func<ConfigFile?, SettingSources> _sources;
    private readonly ServeConfiguration _started;
    private readonly LogLevelSwitch _levels;
    private readonly IRootKeyProvider _provider;
    private ServeConfiguration _running;

    public ServeSettingsReload(string? configPath, Func<ConfigFile?, SettingSources> sources, ServeConfiguration started, LogLevelSwitch levels, IRootKeyProvider provider)
    {
        _configPath = configPath;
        _sources = sources;
        _started = started;
        _running = started;
        _levels = levels;
        _provider = provider;
    }

    /// <summary>Null when nothing could change at run time (a development key without a config file).</summary>
    public ReloadRequest? ToReloadRequest() =>
        _configPath is null && _started.Dev ? null : new ReloadRequest(WatchedFiles, (logger, token) => Task.Run(() => Reload(logger), token));

    private IReadOnlyList<string> WatchedFiles()
    {
        var files = new List<string>();
        if (_configPath is not null)
        {
            files.Add(_configPath);
        }

        files.AddRange(_started.RootKeys.WatchedFiles(_running, _provider));

        return files;
    }

    private string Reload(ILogger logger)
    {
        var problems = new List<string>();
        var file = _configPath is null ? null : ConfigFile.Load(_configPath, problems);
        var next = ServeConfiguration.Resolve(_sources(file), problems);
        _started.RootKeys.CheckReload(next, problems);
        if (problems.Count > 0)
        {
            throw new ReloadRejectedException(problems);
        }

        var outcome = _started.RootKeys.Reload(next, _provider);

        if (_levels.Level != next.Host.LogLevel)
        {
            LogLevelChanged(logger, _levels.Level, next.Host.LogLevel, next.Values[ServeSettings.LogLevel.Key].Origin);
            _levels.Level = next.Host.LogLevel;
        }

        foreach (var (setting, running, wanted) in next.RestartOnlyChanges(_started))
        {
            LogNeedsRestart(logger, setting.Key, running.Display, wanted.Display, wanted.Origin);
        }

        _running = next;
        return $"{outcome}; log level {next.Host.LogLevel}";
    }

    [LoggerMessage(EventId = LogEvents.LogLevelChanged, EventName = nameof(LogEvents.LogLevelChanged), Level = LogLevel.Warning, Message = "log level changed from {Old} to {New} ({Origin})")]
    private static partial void LogLevelChanged(ILogger logger, LogLevel old, LogLevel @new, string origin);

    [LoggerMessage(EventId = LogEvents.SettingNeedsRestart, EventName = nameof(LogEvents.SettingNeedsRestart), Level = LogLevel.Warning, Message = "{Key} changed from \"{Running}\" to \"{Wanted}\" ({Origin}); it needs a restart to take effect, the running value stays")]
    private static partial void LogNeedsRestart(ILogger logger, string key, string running, string wanted, string origin);
}
