using System.CommandLine;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.Observability;

namespace KmsPlugin.Server.RootKeys.Keystore;

/// <summary>The ephemeral in-memory root key of <c>--dev</c>: a software keystore that never touches disk.</summary>
internal sealed partial class DevelopmentKeyModule : IRootKeyModule
{
    public string? ProviderName => null;

    public IReadOnlyList<ServeSetting> Settings { get; } = [KeystoreSettings.Dev];

    public IReadOnlyList<SecretSource> Secrets { get; } = [];

    public IReadOnlyList<string> RefusedFlags { get; } = [];

    public string? SecretHint => null;

    public IReadOnlyDictionary<string, ServeSetting> SecretConfigKeys { get; } = new Dictionary<string, ServeSetting>();

    public bool Selects(string provider, bool dev) => dev && provider == KeystoreModule.Name;

    public object ReadSettings(Func<ServeSetting, ConfigValue> value, SettingParser parse) => true;

    public bool Configured(ServeConfiguration settings) => true;

    public IRootKeySource? Check(ServeConfiguration settings, List<string> problems) => new DevelopmentKeySource();

    public IEnumerable<string> WatchedFiles(ServeConfiguration running, IRootKeyProvider provider) => [];

    public void CheckReload(ServeConfiguration next, List<string> problems)
    {
    }

    public string Reload(ServeConfiguration next, IRootKeyProvider provider) => "development key unchanged";

    public Command? CreateCommand() => null;

    public void OnStarted(IRootKeyProvider provider, ILoggerFactory loggers) =>
        LogDevelopment(loggers.CreateLogger("KmsPlugin.Server.Dev"));

    public KmsException? Unavailable(IRootKeyProvider provider) => null;

    [LoggerMessage(EventId = LogEvents.DevelopmentMode, EventName = nameof(LogEvents.DevelopmentMode), Level = LogLevel.Warning, Message = "DEVELOPMENT MODE: the root key exists only in this process's memory. Everything encrypted now becomes unreadable when it stops. Never use --dev for a cluster")]
    private static partial void LogDevelopment(ILogger logger);
}
