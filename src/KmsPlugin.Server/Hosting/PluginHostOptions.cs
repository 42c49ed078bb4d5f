using KmsPlugin.Core.Envelope;

namespace KmsPlugin.Server.Hosting;

internal sealed record PluginHostOptions
{
    public const UnixFileMode DefaultSocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public required string SocketPath { get; init; }

    public UnixFileMode SocketMode { get; init; } = DefaultSocketMode;

    /// <summary>How long SIGTERM waits for in-flight calls before the process exits anyway.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(10);

    public EnvelopeOptions Envelope { get; init; } = new();

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>When set, the level is read from it on every log call (a config reload changes it); <see cref="LogLevel"/> is then unused.</summary>
    public LogLevelSwitch? LogLevelSwitch { get; init; }

    /// <summary>
    /// Rewrites a socket-path <c>:authority</c> (kube-apiserver's v1 client) to <c>localhost</c>
    /// so Kestrel accepts it. Off only to show, in tests, what Kestrel does without it.
    /// </summary>
    public bool NormalizeAuthority { get; init; } = true;

    /// <summary>
    /// Loopback TCP address for /livez, /healthz, /readyz and /metrics (port 0 picks a free one);
    /// null serves none of them.
    /// </summary>
    public System.Net.IPEndPoint? HealthEndpoint { get; init; }

    /// <summary>Watch-and-reload for the root keys and config file; null when nothing can change at run time.</summary>
    public RootKeyReload? Reload { get; init; }

    /// <summary>From this long before the primary root key expires, every check logs a warning.</summary>
    public TimeSpan ExpiryWarning { get; init; } = TimeSpan.FromDays(30);

    /// <summary>How often the background root-key round trip runs while healthy.</summary>
    public TimeSpan HealthProbeInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often it runs while unhealthy, so recovery shows quickly.</summary>
    public TimeSpan HealthProbeIntervalWhenUnhealthy { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A root-key round trip slower than this counts as failed.</summary>
    public TimeSpan HealthProbeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A passed check older than this no longer counts as healthy (the probe itself is stuck).</summary>
    public TimeSpan HealthStaleAfter => 3 * HealthProbeInterval + HealthProbeTimeout;

    /// <summary>Largest request message accepted; kube-apiserver sends 32-byte keys.</summary>
    public int MaxRequestBytes { get; init; } = 256 * 1024;
}
