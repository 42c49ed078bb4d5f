using System.Security.Cryptography;
using KmsPlugin.Core.Keys;
using KmsPlugin.Core.Keystore;

namespace KmsPlugin.Server.Cli;

/// <summary>Where `serve` gets its root keys: a keystore file, or the in-memory dev key.</summary>
internal sealed partial class RootKeySource
{
    private readonly string? _keystorePath;
    private readonly byte[]? _passphrase;

    private RootKeySource(string? keystorePath, byte[]? passphrase)
    {
        _keystorePath = keystorePath;
        _passphrase = passphrase;
    }

    public static RootKeySource ForDevelopment() => new(null, null);

    /// <summary>Checks the keystore settings, adding every problem; null when unusable.</summary>
    public static RootKeySource? ForKeystore(string? keystorePath, string? passphraseFile, List<string> problems)
    {
        if (keystorePath is null)
        {
            problems.Add($"no root keys: give --keystore (or {EnvironmentVariables.Keystore}), or --dev for an ephemeral development key");
        }
        else if (!File.Exists(keystorePath))
        {
            problems.Add($"keystore \"{keystorePath}\" does not exist; create it with `kms-plugin keystore init`");
        }

        var passphrase = PassphraseSource.Read(passphraseFile, problems);
        return keystorePath is null || passphrase is null ? null : new RootKeySource(Path.GetFullPath(keystorePath), passphrase);
    }

    public IKeyEncryptionKeyProvider Open()
    {
        if (_keystorePath is null)
        {
            return SoftwareKeyEncryptionKeyProvider.CreateDevelopment();
        }

        try
        {
            using var keystore = Keystore.Load(_keystorePath, _passphrase);
            return new SoftwareKeyEncryptionKeyProvider(keystore);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(_passphrase);
        }
    }

    public static void WarnDevelopment(ILoggerFactory loggers) =>
        LogDevelopment(loggers.CreateLogger("KmsPlugin.Server.Dev"));

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "DEVELOPMENT MODE: the root key exists only in this process's memory. Everything encrypted now becomes unreadable when it stops. Never use --dev for a cluster")]
    private static partial void LogDevelopment(ILogger logger);
}
