using KmsPlugin.Core.Envelope;

namespace KmsPlugin.Server.Hosting;

internal sealed record PluginHostOptions
{
    public const int DefaultMaxRequestBytes = 64 * 1024;

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
    public ReloadRequest? Reload { get; init; }

    /// <summary>How often a watched file whose directory cannot be watched (inotify limit, no read permission, gone) is polled.</summary>
    public TimeSpan ReloadPollInterval { get; init; } = TimeSpan.FromSeconds(5);

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

    /// <summary>
    /// Diagnostics only: a file of root-key faults to inject (see <see cref="Diagnostics.RootKeyFaults"/>),
    /// re-read when it changes. Null, always, outside fault drills.
    /// </summary>
    public string? FaultsFile { get; init; }

    /// <summary>
    /// Largest gRPC request message accepted; bigger ones get ResourceExhausted before they are
    /// read. kube-apiserver sends 32-byte keys; its largest legitimate request is a v2 Decrypt
    /// with a 1 KiB ciphertext, a 1 KiB key_id and up to 32 KiB of annotations (its own limits),
    /// so 64 KiB leaves room for protobuf framing and nothing more.
    /// </summary>
    public int MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    /// <summary>
    /// Connections open at once (socket and health listener together); kube-apiserver holds one
    /// or two. Keeps file descriptors bounded; far above what a single runaway client needs to
    /// be noticed, far below the process's descriptor limit.
    /// </summary>
    public int MaxConnections { get; init; } = 4096;

    /// <summary>Concurrent calls per HTTP/2 connection; a client wanting more opens another connection or queues.</summary>
    public int MaxStreamsPerConnection { get; init; } = 100;

    /// <summary>
    /// A connection must deliver its HTTP/2 preface and each request's headers within this, or
    /// it is closed: a client that connects and stalls, or trickles bytes, holds nothing for long.
    /// </summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// An HTTP/2 connection with no call in progress for this long is closed (GOAWAY; gRPC
    /// clients reconnect on their next call). Also how long a connection that never completes
    /// its preface can hold a slot.
    /// </summary>
    public TimeSpan IdleConnectionTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
