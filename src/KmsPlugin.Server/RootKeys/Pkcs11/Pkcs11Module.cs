using System.CommandLine;
using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Pkcs11;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Configuration;
using KmsPlugin.Server.Observability;

namespace KmsPlugin.Server.RootKeys.Pkcs11;

/// <summary>Root keys on a PKCS#11 token (<c>--provider pkcs11</c>).</summary>
internal sealed partial class Pkcs11Module : IRootKeyModule
{
    public const string Name = "pkcs11";

    public string? ProviderName => Name;

    public IReadOnlyList<ServeSetting> Settings => Pkcs11Settings.Rows;

    public IReadOnlyList<SecretSource> Secrets { get; } = [Pkcs11Settings.Pin];

    public IReadOnlyList<string> RefusedFlags { get; } = ["--pin", "--pkcs11-pin", "--so-pin"];

    public string? SecretHint =>
        $"the PKCS#11 PIN with --pkcs11-pin-file (serve), --pin-file (pkcs11 verbs), {Pkcs11EnvironmentVariables.PinFile} or {Pkcs11EnvironmentVariables.Pin}";

    public IReadOnlyDictionary<string, ServeSetting> SecretConfigKeys { get; } = new Dictionary<string, ServeSetting>(StringComparer.OrdinalIgnoreCase)
    {
        ["pin"] = Pkcs11Settings.PinFileSetting,
    };

    public bool Selects(string provider, bool dev) => provider == Name;

    public object ReadSettings(Func<ServeSetting, ConfigValue> value, SettingParser parse) => Pkcs11Settings.Read(value, parse);

    public bool Configured(ServeConfiguration settings) => true;

    /// <summary>Checks what needs no token (module, labels, PIN source).</summary>
    public IRootKeySource? Check(ServeConfiguration settings, List<string> problems)
    {
        var pkcs11 = settings.RootKeySettings<Pkcs11Settings>(this);
        var count = problems.Count;
        RequireLabels(pkcs11, problems);
        var pin = Pkcs11Settings.Pin.Read(pkcs11.PinFile, "--pkcs11-pin-file (config pkcs11.pinFile)", problems);
        var options = new Pkcs11ProviderOptions
        {
            ModulePath = pkcs11.ModulePath ?? "",
            TokenLabel = pkcs11.TokenLabel ?? "",
            TokenSerial = pkcs11.TokenSerial,
            Pin = pin ?? [],
            PrimaryKeyLabel = pkcs11.KeyLabel ?? "",
            DecryptKeyLabels = pkcs11.DecryptKeyLabels,
            MaxSessions = pkcs11.MaxSessions,
            CallTimeout = pkcs11.CallTimeout,
        };
        if (pkcs11.ModulePath is not null && pkcs11.TokenLabel is not null && pkcs11.KeyLabel is not null)
        {
            problems.AddRange(options.Validate());
        }

        if (problems.Count > count)
        {
            CryptographicOperations.ZeroMemory(pin);
            return null;
        }

        return new Pkcs11Source(options);
    }

    public IEnumerable<string> WatchedFiles(ServeConfiguration running, IRootKeyProvider provider) => [];

    public void CheckReload(ServeConfiguration next, List<string> problems)
    {
    }

    public string Reload(ServeConfiguration next, IRootKeyProvider provider)
    {
        var pkcs11 = next.RootKeySettings<Pkcs11Settings>(this);
        return ((Pkcs11RootKeyProvider)provider).Reload(pkcs11.KeyLabel, pkcs11.DecryptKeyLabels);
    }

    public Command? CreateCommand() => Pkcs11Command.Create();

    /// <summary>Logs why the provider started without its token (it keeps trying), and, as errors, every key refused because the token's key material changed under its label.</summary>
    public void OnStarted(IRootKeyProvider provider, ILoggerFactory loggers)
    {
        if (provider is not Pkcs11RootKeyProvider pkcs11)
        {
            return;
        }

        var logger = loggers.CreateLogger("KmsPlugin.Server.Pkcs11");
        if (pkcs11.Failure is { } failure)
        {
            LogDisconnected(logger, failure.Message);
        }

        pkcs11.KeyRefused = reason => LogKeyRefused(logger, reason);
    }

    public KmsException? Unavailable(IRootKeyProvider provider) => (provider as Pkcs11RootKeyProvider)?.Failure;

    private static void RequireLabels(Pkcs11Settings pkcs11, List<string> problems)
    {
        if (pkcs11.ModulePath is null)
        {
            problems.Add($"no PKCS#11 module: give --pkcs11-module (or {Pkcs11EnvironmentVariables.Module}, or pkcs11.module in the config file)");
        }

        if (pkcs11.TokenLabel is null)
        {
            problems.Add($"no PKCS#11 token: give --pkcs11-token (or {Pkcs11EnvironmentVariables.Token}, or pkcs11.token in the config file)");
        }

        if (pkcs11.KeyLabel is null)
        {
            problems.Add($"no PKCS#11 primary key: give --pkcs11-key (or {Pkcs11EnvironmentVariables.Key}, or pkcs11.key in the config file), the label of an AES key made with `kms-plugin pkcs11 keygen`");
        }
    }

    [LoggerMessage(EventId = LogEvents.RootKeyRefused, EventName = nameof(LogEvents.RootKeyRefused), Level = LogLevel.Error, Message = "ROOT KEY REFUSED: {Reason}")]
    private static partial void LogKeyRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = LogEvents.RootKeysUnavailableAtStart, EventName = nameof(LogEvents.RootKeysUnavailableAtStart), Level = LogLevel.Warning, Message = "Root keys unavailable at start-up: {Reason}. Serving unhealthy; Encrypt and Decrypt calls that need the token fail with Unavailable until it is reachable, then recovery is automatic")]
    private static partial void LogDisconnected(ILogger logger, string reason);
}
