namespace KmsPlugin.Server.Cli;

/// <summary>Environment variables that stand in for flags. A flag given on the command line wins.</summary>
internal static class EnvironmentVariables
{
    public const string Config = "KMS_PLUGIN_CONFIG";
    public const string Provider = "KMS_PLUGIN_PROVIDER";
    public const string Socket = "KMS_PLUGIN_SOCKET";
    public const string SocketMode = "KMS_PLUGIN_SOCKET_MODE";
    public const string Keystore = "KMS_PLUGIN_KEYSTORE";
    public const string PassphraseFile = "KMS_PLUGIN_PASSPHRASE_FILE";

    /// <summary>The passphrase itself; for secret stores that inject values, not files.</summary>
    public const string Passphrase = "KMS_PLUGIN_PASSPHRASE";
    public const string LogLevel = "KMS_PLUGIN_LOG_LEVEL";
    public const string ShutdownGrace = "KMS_PLUGIN_SHUTDOWN_GRACE";
    public const string DataKeyMaxUses = "KMS_PLUGIN_DEK_MAX_USES";
    public const string DataKeyMaxAge = "KMS_PLUGIN_DEK_MAX_AGE";
    public const string DataKeyCacheSize = "KMS_PLUGIN_DEK_CACHE_SIZE";
    public const string RootKeyTimeout = "KMS_PLUGIN_ROOT_KEY_TIMEOUT";
    public const string HealthAddress = "KMS_PLUGIN_HEALTH_ADDRESS";
    public const string ExpiryWarning = "KMS_PLUGIN_EXPIRY_WARNING";

    public static string? Get(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
