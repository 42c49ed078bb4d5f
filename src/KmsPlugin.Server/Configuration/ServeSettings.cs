using System.Globalization;
using KmsPlugin.Core.Envelope;

using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>Every `serve` setting: the one table the flags, the variables, the config file and the README follow.</summary>
internal static class ServeSettings
{
    public static readonly ServeSetting Socket = new("socket", "--socket", EnvironmentVariables.Socket, SettingKind.Text,
        CommonOptions.DefaultSocket, "Unix socket path");

    public static readonly ServeSetting SocketMode = new("socketMode", "--socket-mode", EnvironmentVariables.SocketMode, SettingKind.Text,
        "0600", "Socket file mode, octal; 0660 lets the plugin's group connect");

    public static readonly ServeSetting LogLevel = new("logLevel", "--log-level", EnvironmentVariables.LogLevel, SettingKind.Text,
        "Information", "Trace, Debug, Information, Warning, Error", RuntimeChangeable: true);

    public static readonly ServeSetting ShutdownGrace = new("shutdownGrace", "--shutdown-grace", EnvironmentVariables.ShutdownGrace, SettingKind.Duration,
        "10s", "How long SIGTERM waits for in-flight calls");

    public static readonly ServeSetting HealthAddress = new("healthAddress", "--health-address", EnvironmentVariables.HealthAddress, SettingKind.Text,
        "127.0.0.1:8787", "IP:port for /livez, /healthz, /readyz and /metrics, or off");

    public static readonly ServeSetting ExpiryWarning = new("expiryWarning", "--expiry-warning", EnvironmentVariables.ExpiryWarning, SettingKind.Duration,
        "720h", "Warn (log, metric) this long before the primary root key expires");

    public static readonly ServeSetting DataKeyMaxUses = new("dataKeys.maxUses", "--dek-max-uses", EnvironmentVariables.DataKeyMaxUses, SettingKind.WholeNumber,
        DataEncryptionKeyRotationPolicy.Default.MaxUses.ToString(CultureInfo.InvariantCulture), "Encryptions per plugin data key before it is replaced (at most 2^32)");

    public static readonly ServeSetting DataKeyMaxAge = new("dataKeys.maxAge", "--dek-max-age", EnvironmentVariables.DataKeyMaxAge, SettingKind.Duration,
        "24h", "Age at which the plugin data key is replaced");

    public static readonly ServeSetting DataKeyCacheSize = new("dataKeys.cacheSize", "--dek-cache-size", EnvironmentVariables.DataKeyCacheSize, SettingKind.WholeNumber,
        "1000", "Unwrapped data keys kept in memory");

    public static readonly ServeSetting RootKeyTimeout = new("rootKeyTimeout", "--root-key-timeout", EnvironmentVariables.RootKeyTimeout, SettingKind.Duration,
        "2s", "Upper bound of one root-key wrap or unwrap; keep it under kube-apiserver's KMS timeout (3s) so callers get Unavailable, not a hung call");

    public static readonly ServeSetting Provider = new("provider", "--provider", Pkcs11EnvironmentVariables.Provider, SettingKind.Text,
        "software", "Where the root keys live: software (a keystore file) or pkcs11 (an HSM token)");

    public static readonly ServeSetting Dev = new("dev", "--dev", null, SettingKind.Switch,
        null, "Serve with an ephemeral in-memory root key. Data encrypted this way is lost when the process exits: never for production");

    public static readonly ServeSetting Keystore = new("keystore.path", "--keystore", EnvironmentVariables.Keystore, SettingKind.Text,
        null, "Keystore file holding the software root keys", RuntimeChangeable: true);

    public static readonly ServeSetting PassphraseFile = new("keystore.passphraseFile", "--passphrase-file", EnvironmentVariables.PassphraseFile, SettingKind.Text,
        null, $"File holding the keystore passphrase (or the passphrase itself in {EnvironmentVariables.Passphrase}; never on the command line)", RuntimeChangeable: true);

    public static readonly ServeSetting Pkcs11Module = new("pkcs11.module", "--pkcs11-module", Pkcs11EnvironmentVariables.Module, SettingKind.Text,
        null, "PKCS#11 module (.so) of the HSM, e.g. /usr/lib/softhsm/libsofthsm2.so");

    public static readonly ServeSetting Pkcs11Token = new("pkcs11.token", "--pkcs11-token", Pkcs11EnvironmentVariables.Token, SettingKind.Text,
        null, "Label of the token holding the root keys");

    public static readonly ServeSetting Pkcs11TokenSerial = new("pkcs11.tokenSerial", "--pkcs11-token-serial", Pkcs11EnvironmentVariables.TokenSerial, SettingKind.Text,
        null, "Serial number of the token, when several share its label");

    public static readonly ServeSetting Pkcs11PinFile = new("pkcs11.pinFile", "--pkcs11-pin-file", Pkcs11EnvironmentVariables.PinFile, SettingKind.Text,
        null, $"File holding the token's user PIN (or the PIN itself in {Pkcs11EnvironmentVariables.Pin}; never on the command line)");

    public static readonly ServeSetting Pkcs11Key = new("pkcs11.key", "--pkcs11-key", Pkcs11EnvironmentVariables.Key, SettingKind.Text,
        null, "Label of the primary AES root key on the token", RuntimeChangeable: true);

    public static readonly ServeSetting Pkcs11DecryptKeys = new("pkcs11.decryptKeys", "--pkcs11-decrypt-key", Pkcs11EnvironmentVariables.DecryptKeys, SettingKind.TextList,
        null, "Label of a decrypt-only AES root key (an older primary); repeat for several (the variable is comma-separated)", RuntimeChangeable: true);

    public static readonly ServeSetting Pkcs11MaxSessions = new("pkcs11.maxSessions", "--pkcs11-max-sessions", Pkcs11EnvironmentVariables.MaxSessions, SettingKind.WholeNumber,
        "8", "PKCS#11 sessions open at most (one per concurrent HSM call)");

    public static readonly ServeSetting Pkcs11CallTimeout = new("pkcs11.callTimeout", "--pkcs11-call-timeout", Pkcs11EnvironmentVariables.CallTimeout, SettingKind.Duration,
        "2s", "Upper bound of every HSM call (kube-apiserver gives up after 3s)");

    public static IReadOnlyList<ServeSetting> All { get; } =
    [
        Socket, SocketMode, LogLevel, ShutdownGrace, HealthAddress, ExpiryWarning, DataKeyMaxUses, DataKeyMaxAge, DataKeyCacheSize, RootKeyTimeout,
        Provider, Dev, Keystore, PassphraseFile,
        Pkcs11Module, Pkcs11Token, Pkcs11TokenSerial, Pkcs11PinFile, Pkcs11Key, Pkcs11DecryptKeys, Pkcs11MaxSessions, Pkcs11CallTimeout,
    ];

    /// <summary>Keys that only group others (<c>keystore</c>, <c>pkcs11</c>, <c>dataKeys</c>).</summary>
    public static IReadOnlySet<string> Sections { get; } = All
        .Where(s => s.Key.Contains('.', StringComparison.Ordinal))
        .Select(s => s.Key[..s.Key.LastIndexOf('.')])
        .ToHashSet(StringComparer.Ordinal);

    public static ServeSetting? Find(string key) => All.FirstOrDefault(s => s.Key == key);
}
