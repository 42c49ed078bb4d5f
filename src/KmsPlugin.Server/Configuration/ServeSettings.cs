using System.Globalization;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.RootKeys;

namespace KmsPlugin.Server.Configuration;

/// <summary>Every `serve` setting: the one table the flags, the variables, the config file and docs/configuration.md follow.</summary>
internal static class ServeSettings
{
    // The defaults are the options records' own; the table only formats them.
    private static readonly PluginHostOptions HostDefaults = new() { SocketPath = CommonOptions.DefaultSocket };
    private static readonly EnvelopeOptions EnvelopeDefaults = new();

    public static readonly ServeSetting Socket = new("socket", "--socket", EnvironmentVariables.Socket, SettingKind.Text,
        CommonOptions.DefaultSocket, "Unix socket path");

    public static readonly ServeSetting SocketMode = new("socketMode", "--socket-mode", EnvironmentVariables.SocketMode, SettingKind.Text,
        ModeText(HostDefaults.SocketMode), "Socket file mode, octal; 0660 lets the plugin's group connect");

    public static readonly ServeSetting LogLevel = new("logLevel", "--log-level", EnvironmentVariables.LogLevel, SettingKind.Text,
        HostDefaults.LogLevel.ToString(), "Trace, Debug, Information, Warning, Error", RuntimeChangeable: true);

    public static readonly ServeSetting ShutdownGrace = new("shutdownGrace", "--shutdown-grace", EnvironmentVariables.ShutdownGrace, SettingKind.Duration,
        DurationText.Format(HostDefaults.ShutdownGrace), "How long SIGTERM waits for in-flight calls");

    public static readonly ServeSetting HealthAddress = new("healthAddress", "--health-address", EnvironmentVariables.HealthAddress, SettingKind.Text,
        "127.0.0.1:8787", "IP:port for /livez, /healthz, /readyz and /metrics, or off");

    public static readonly ServeSetting ExpiryWarning = new("expiryWarning", "--expiry-warning", EnvironmentVariables.ExpiryWarning, SettingKind.Duration,
        DurationText.Format(HostDefaults.ExpiryWarning), "Warn (log, metric) this long before the primary root key expires");

    public static readonly ServeSetting DataKeyMaxUses = new("dataKeys.maxUses", "--dek-max-uses", EnvironmentVariables.DataKeyMaxUses, SettingKind.WholeNumber,
        EnvelopeDefaults.Rotation.MaxUses.ToString(CultureInfo.InvariantCulture), "Encryptions per plugin data key before it is replaced (at most 2^32)");

    public static readonly ServeSetting DataKeyMaxAge = new("dataKeys.maxAge", "--dek-max-age", EnvironmentVariables.DataKeyMaxAge, SettingKind.Duration,
        DurationText.Format(EnvelopeDefaults.Rotation.MaxAge), "Age at which the plugin data key is replaced");

    public static readonly ServeSetting DataKeyCacheSize = new("dataKeys.cacheSize", "--dek-cache-size", EnvironmentVariables.DataKeyCacheSize, SettingKind.WholeNumber,
        EnvelopeDefaults.DataKeyCacheCapacity.ToString(CultureInfo.InvariantCulture), "Unwrapped data keys kept in memory");

    public static readonly ServeSetting RootKeyTimeout = new("rootKeyTimeout", "--root-key-timeout", EnvironmentVariables.RootKeyTimeout, SettingKind.Duration,
        DurationText.Format(EnvelopeDefaults.RootKeyCallTimeout), "Upper bound of one root-key wrap or unwrap; keep it under kube-apiserver's KMS timeout (3s) so callers get Unavailable, not a hung call");

    public static IReadOnlyList<ServeSetting> All { get; } =
    [
        Socket, SocketMode, LogLevel, ShutdownGrace, HealthAddress, ExpiryWarning, DataKeyMaxUses, DataKeyMaxAge, DataKeyCacheSize, RootKeyTimeout,
        .. RootKeyModules.Settings,
    ];

    /// <summary>Keys that only group others (<c>keystore</c>, <c>pkcs11</c>, <c>dataKeys</c>).</summary>
    public static IReadOnlySet<string> Sections { get; } = All
        .Where(s => s.Key.Contains('.', StringComparison.Ordinal))
        .Select(s => s.Key[..s.Key.LastIndexOf('.')])
        .ToHashSet(StringComparer.Ordinal);

    public static ServeSetting? Find(string key) => All.FirstOrDefault(s => s.Key == key);

    private static string ModeText(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8);
}
