using System.Runtime.InteropServices;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Grpc;
using KmsPlugin.Server.Observability;
using KmsPlugin.Server.RootKeys;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace KmsPlugin.Server.Hosting;

/// <summary>The running plugin: Kestrel on the unix socket (HTTP/2 only) with the KMS services.</summary>
internal sealed partial class PluginHost : IAsyncDisposable
{
    /// <summary>gRPC metadata is a few hundred bytes; Kestrel's default (32 KiB) is for browsers.
    /// The authority normalizer's buffering bound is derived from it.</summary>
    internal const int MaxRequestHeadersTotalSize = 16 * 1024;

    private readonly WebApplication _app;
    private readonly PluginHostOptions _options;
    private readonly List<PosixSignalRegistration> _stopSignals = [];
    private UnixFileIdentity? _published;
    private int _stopSignal;
    private int _socketRemoved;
    private bool _removedOwnSocket;
    private int _disposed;

    private PluginHost(WebApplication app, PluginHostOptions options, EnvelopeEncryptor encryptor)
    {
        _app = app;
        _options = options;
        Encryptor = encryptor;

        // Beside the host's own handlers (which stop it): a stop with none of these is a failure.
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
        {
            _stopSignals.Add(PosixSignalRegistration.Create(signal, _ => Volatile.Write(ref _stopSignal, 1)));
        }

        app.Lifetime.ApplicationStopping.Register(RemoveSocket);
    }

    public string SocketPath => _options.SocketPath;

    public EnvelopeEncryptor Encryptor { get; }

    public IServiceProvider Services => _app.Services;

    public RootKeyHealthProbe Health => _app.Services.GetRequiredService<RootKeyHealthProbe>();

    /// <summary>The bound health/metrics address (http://127.0.0.1:port), or null when off.</summary>
    public Uri? HealthAddress => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
        .Where(a => a.StartsWith("http://", StringComparison.Ordinal) && !a.StartsWith("http://unix:", StringComparison.Ordinal))
        .Select(a => new Uri(a))
        .FirstOrDefault();

    public static async Task<PluginHost> StartAsync(
        PluginHostOptions options,
        IRootKeyProvider provider,
        Action<ILoggingBuilder>? configureLogging = null,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        UnixSocketFile.Prepare(options.SocketPath);
        var stagingPath = UnixSocketFile.CreateStagingPath(options.SocketPath);
        try
        {
            return await StartStagedAsync(options, provider, stagingPath, configureLogging, time, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Gone already once published; on any failure, no ".kmsp-*" directory is left behind.
            UnixSocketFile.DiscardStaging(stagingPath);
        }
    }

    private static async Task<PluginHost> StartStagedAsync(
        PluginHostOptions options,
        IRootKeyProvider provider,
        string stagingPath,
        Action<ILoggingBuilder>? configureLogging,
        TimeProvider? time,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        PluginHostLogging.Configure(builder.Logging, options, configureLogging);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownGrace);
        builder.WebHost.ConfigureKestrel(kestrel => PluginKestrel.Configure(kestrel, options, stagingPath));
        provider = RootKeyModules.Decorate(provider, options, builder.Services);
        var encryptor = AddServices(builder.Services, options, provider, time ?? TimeProvider.System);

        var app = builder.Build();
        HealthEndpoints.Map(app, app.Services.GetRequiredService<PluginMetrics>());
        app.MapGrpcService<KeyManagementServiceV1>();
        app.MapGrpcService<KeyManagementServiceV2>();
        app.MapGrpcService<RootKeyService>();

        var host = new PluginHost(app, options, encryptor);
        await host.PublishAsync(stagingPath, cancellationToken).ConfigureAwait(false);
        LogListening(app.Logger, options.SocketPath, provider.Name, PrimaryKeyIdForLog(provider), ProductInfo.Version);
        return host;
    }

    private static EnvelopeEncryptor AddServices(IServiceCollection services, PluginHostOptions options, IRootKeyProvider provider, TimeProvider clock)
    {
        var encryptor = new EnvelopeEncryptor(provider, options.Envelope, clock);
        services.AddSingleton(provider);
        services.AddSingleton(encryptor);
        services.AddSingleton(options);
        services.AddSingleton(clock);
        services.AddSingleton<RootKeyHealthProbe>();
        services.AddSingleton<PluginMetrics>();
        if (options.Reload is { } reload)
        {
            services.AddSingleton(reload);
            services.AddSingleton<ReloadTrigger>();
            services.AddHostedService(s => s.GetRequiredService<ReloadTrigger>());
        }

        services.AddHostedService(s => s.GetRequiredService<RootKeyHealthProbe>());
        // Singletons in DI (all stateless): Grpc resolves them instead of constructing each per call through reflection.
        services.AddSingleton<KmsCallInterceptor>();
        services.AddSingleton<KeyManagementServiceV1>();
        services.AddSingleton<KeyManagementServiceV2>();
        services.AddSingleton<RootKeyService>();
        services.AddGrpc(grpc =>
        {
            grpc.EnableDetailedErrors = false;
            grpc.MaxReceiveMessageSize = options.MaxRequestBytes;
            grpc.Interceptors.Add<KmsCallInterceptor>();
        });
        return encryptor;
    }

    /// <summary>Checks the root keys once, starts listening, then moves the socket into place; disposes the host on failure.</summary>
    private async Task PublishAsync(string stagingPath, CancellationToken cancellationToken)
    {
        try
        {
            RootKeyModules.BeforeFirstCall(_app.Services);

            // The first answer to Status must already be a real one.
            await _app.Services.GetRequiredService<RootKeyHealthProbe>().CheckNowAsync(cancellationToken).ConfigureAwait(false);
            await StartListeningAsync(_app, _options, cancellationToken).ConfigureAwait(false);
            _published = UnixSocketFile.Publish(stagingPath, _options.SocketPath, _options.SocketMode);
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string PrimaryKeyIdForLog(IRootKeyProvider provider)
    {
        try
        {
            return provider.Primary.KeyId;
        }
        catch (Core.Errors.KmsException ex)
        {
            // A provider that cannot reach its keys yet (a token away): serve unhealthy, it reconnects.
            return $"unavailable ({ex.Message})";
        }
    }

    /// <summary>True once SIGTERM, SIGINT or SIGQUIT arrived; a host that stopped otherwise failed.</summary>
    public bool StoppedBySignal => Volatile.Read(ref _stopSignal) != 0;

    /// <summary>Runs until SIGTERM/SIGINT (or a failure stops the host), then removes the socket and drains in-flight calls.</summary>
    public async Task RunUntilShutdownAsync()
    {
        await _app.WaitForShutdownAsync().ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Kestrel's bind errors, turned into the one line that names the setting to change.</summary>
    private static async Task StartListeningAsync(WebApplication app, PluginHostOptions options, CancellationToken cancellationToken)
    {
        try
        {
            // Found before Kestrel tries, which would log the clash with a stack trace first.
            if (options.HealthEndpoint is { Port: > 0 } health)
            {
                HealthPortProbe.ThrowIfInUse(health);
            }

            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (options.HealthEndpoint is { } health && ex.Message.Contains(health.ToString(), StringComparison.Ordinal))
        {
            throw HealthPortProbe.Failure(health, ex);
        }
    }

    /// <summary>At the start of the drain, while this plugin still listens, so no successor can have bound the path yet.</summary>
    private void RemoveSocket()
    {
        if (_published is { } published && Interlocked.Exchange(ref _socketRemoved, 1) == 0)
        {
            try
            {
                _removedOwnSocket = UnixSocketFile.RemoveIfSame(_options.SocketPath, published);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogSocketNotRemoved(_app.Logger, _options.SocketPath, ex.Message);
                return;
            }

            if (_removedOwnSocket)
            {
                LogSocketRemoved(_app.Logger, _options.SocketPath);
            }
            else
            {
                LogSocketNotOurs(_app.Logger, _options.SocketPath);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            RemoveSocket();
            using var grace = new CancellationTokenSource(_options.ShutdownGrace);
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        }
        finally
        {
            if (_removedOwnSocket)
            {
                LogStopped(_app.Logger, _options.SocketPath);
            }

            _stopSignals.ForEach(s => s.Dispose());
            await _app.DisposeAsync().ConfigureAwait(false);
            Encryptor.Dispose();
        }
    }

    [LoggerMessage(EventId = LogEvents.Serving, EventName = nameof(LogEvents.Serving), Level = LogLevel.Information, Message = "kms-plugin {Version} serving KMS v1beta1 and v2 on unix socket {SocketPath}, root keys: {Provider}, primary key_id {PrimaryKeyId}")]
    private static partial void LogListening(ILogger logger, string socketPath, string provider, string primaryKeyId, string version);

    [LoggerMessage(EventId = LogEvents.Stopped, EventName = nameof(LogEvents.Stopped), Level = LogLevel.Information, Message = "stopped; socket {SocketPath} removed")]
    private static partial void LogStopped(ILogger logger, string socketPath);

    [LoggerMessage(EventId = LogEvents.Draining, EventName = nameof(LogEvents.Draining), Level = LogLevel.Information, Message = "stopping: socket {SocketPath} removed; draining calls in flight")]
    private static partial void LogSocketRemoved(ILogger logger, string socketPath);

    [LoggerMessage(EventId = LogEvents.SocketNotOurs, EventName = nameof(LogEvents.SocketNotOurs), Level = LogLevel.Warning, Message = "stopping: socket {SocketPath} is no longer the one this plugin bound (another process replaced it); left in place")]
    private static partial void LogSocketNotOurs(ILogger logger, string socketPath);

    [LoggerMessage(EventId = LogEvents.SocketNotRemoved, EventName = nameof(LogEvents.SocketNotRemoved), Level = LogLevel.Warning, Message = "stopping: socket {SocketPath} could not be removed: {Reason}")]
    private static partial void LogSocketNotRemoved(ILogger logger, string socketPath, string reason);
}
