using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.RootKeys.Pkcs11;

namespace KmsPlugin.Server.Cli;

/// <summary>Where `serve` gets its root keys: a keystore file, the in-memory dev key, or a PKCS#11 token.</summary>
internal sealed partial class RootKeySource
{
    private readonly string? _keystorePath;
    private readonly byte[]? _passphrase;
    private readonly Pkcs11ProviderOptions? _pkcs11;

    private RootKeySource(string? keystorePath, byte[]? passphrase, Pkcs11ProviderOptions? pkcs11 = null)
    {
        _keystorePath = keystorePath;
        _passphrase = passphrase;
        _pkcs11 = pkcs11;
    }

    public static RootKeySource ForDevelopment() => new(null, null);

    /// <summary>Checks the keystore settings, adding every problem; null when unusable.</summary>
    public static RootKeySource? ForKeystore(string? keystorePath, string? passphraseFile, List<string> problems)
    {
        if (keystorePath is null)
        {
            problems.Add($"no root keys: give --keystore (or {EnvironmentVariables.Keystore}, or keystore.path in the config file), or --dev for an ephemeral development key");
        }
        else if (!File.Exists(keystorePath))
        {
            problems.Add($"keystore \"{keystorePath}\" does not exist; create it with `kms-plugin keystore init`");
        }

        var passphrase = SecretSource.KeystorePassphrase.Read(passphraseFile, "--passphrase-file (config keystore.passphraseFile)", problems);
        return keystorePath is null || passphrase is null ? null : new RootKeySource(Path.GetFullPath(keystorePath), passphrase);
    }

    /// <summary>Checks the PKCS#11 settings that need no token (module, labels, PIN source), adding every problem; null when unusable.</summary>
    public static RootKeySource? ForPkcs11(Pkcs11Settings settings, List<string> problems)
    {
        var count = problems.Count;
        if (settings.ModulePath is null)
        {
            problems.Add($"no PKCS#11 module: give --pkcs11-module (or {Pkcs11EnvironmentVariables.Module}, or pkcs11.module in the config file)");
        }

        if (settings.TokenLabel is null)
        {
            problems.Add($"no PKCS#11 token: give --pkcs11-token (or {Pkcs11EnvironmentVariables.Token}, or pkcs11.token in the config file)");
        }

        if (settings.KeyLabel is null)
        {
            problems.Add($"no PKCS#11 primary key: give --pkcs11-key (or {Pkcs11EnvironmentVariables.Key}, or pkcs11.key in the config file), the label of an AES key made with `kms-plugin pkcs11 keygen`");
        }

        var pin = SecretSource.Pkcs11Pin.Read(settings.PinFile, "--pkcs11-pin-file (config pkcs11.pinFile)", problems);
        var options = new Pkcs11ProviderOptions
        {
            ModulePath = settings.ModulePath ?? "",
            TokenLabel = settings.TokenLabel ?? "",
            TokenSerial = settings.TokenSerial,
            Pin = pin ?? [],
            PrimaryKeyLabel = settings.KeyLabel ?? "",
            DecryptKeyLabels = settings.DecryptKeyLabels,
            MaxSessions = settings.MaxSessions,
            CallTimeout = settings.CallTimeout,
        };
        if (settings.ModulePath is not null && settings.TokenLabel is not null && settings.KeyLabel is not null)
        {
            problems.AddRange(options.Validate());
        }

        if (problems.Count > count)
        {
            CryptographicOperations.ZeroMemory(pin);
            return null;
        }

        return new RootKeySource(null, null, options);
    }

    public bool IsPkcs11 => _pkcs11 is not null;

    /// <summary>
    /// Opens the provider. For PKCS#11, configuration problems found on the token (wrong PIN, key or
    /// mechanism missing) throw <see cref="KmsException"/>; a token that cannot be reached yet gives a
    /// provider that reports unhealthy and reconnects by itself.
    /// </summary>
    public IRootKeyProvider Open()
    {
        if (_pkcs11 is not null)
        {
            try
            {
                return Pkcs11RootKeyProvider.Open(_pkcs11);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(_pkcs11.Pin);
            }
        }

        if (_keystorePath is null)
        {
            return KeystoreRootKeyProvider.CreateDevelopment();
        }

        try
        {
            using var keystore = KeystoreFile.Load(_keystorePath, _passphrase);
            return new KeystoreRootKeyProvider(keystore);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(_passphrase);
        }
    }

    public static void WarnDevelopment(ILoggerFactory loggers) =>
        LogDevelopment(loggers.CreateLogger("KmsPlugin.Server.Dev"));

    /// <summary>Logs why a PKCS#11 provider started without its token (it keeps trying).</summary>
    public static void WarnIfDisconnected(IRootKeyProvider provider, ILoggerFactory loggers)
    {
        if (provider is Pkcs11RootKeyProvider { Failure: { } failure })
        {
            LogDisconnected(loggers.CreateLogger("KmsPlugin.Server.Pkcs11"), failure.Message);
        }
    }

    /// <summary>Logs, as an error, every PKCS#11 key refused because the token's key material changed under its label.</summary>
    public static void ReportRefusedKeys(IRootKeyProvider provider, ILoggerFactory loggers)
    {
        if (provider is Pkcs11RootKeyProvider pkcs11)
        {
            var logger = loggers.CreateLogger("KmsPlugin.Server.Pkcs11");
            pkcs11.KeyRefused = reason => LogKeyRefused(logger, reason);
        }
    }

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "ROOT KEY REFUSED: {Reason}")]
    private static partial void LogKeyRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "DEVELOPMENT MODE: the root key exists only in this process's memory. Everything encrypted now becomes unreadable when it stops. Never use --dev for a cluster")]
    private static partial void LogDevelopment(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Root keys unavailable at start-up: {Reason}. Serving unhealthy; Encrypt and Decrypt calls that need the token fail with Unavailable until it is reachable, then recovery is automatic")]
    private static partial void LogDisconnected(ILogger logger, string reason);
}
