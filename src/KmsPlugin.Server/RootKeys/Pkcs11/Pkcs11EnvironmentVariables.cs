namespace KmsPlugin.Server.RootKeys.Pkcs11;

/// <summary>Environment variables for the PKCS#11 settings. A flag wins.</summary>
internal static class Pkcs11EnvironmentVariables
{
    public const string Module = "KMS_PLUGIN_PKCS11_MODULE";
    public const string Token = "KMS_PLUGIN_PKCS11_TOKEN";
    public const string TokenSerial = "KMS_PLUGIN_PKCS11_TOKEN_SERIAL";
    public const string PinFile = "KMS_PLUGIN_PKCS11_PIN_FILE";

    /// <summary>The user PIN itself; for secret stores that inject values, not files.</summary>
    public const string Pin = "KMS_PLUGIN_PKCS11_PIN";
    public const string Key = "KMS_PLUGIN_PKCS11_KEY";

    /// <summary>Decrypt-only key labels, comma-separated.</summary>
    public const string DecryptKeys = "KMS_PLUGIN_PKCS11_DECRYPT_KEYS";
    public const string MaxSessions = "KMS_PLUGIN_PKCS11_MAX_SESSIONS";
    public const string CallTimeout = "KMS_PLUGIN_PKCS11_CALL_TIMEOUT";
}
