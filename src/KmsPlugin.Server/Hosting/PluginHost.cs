using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Keys;
using KmsPlugin.Server.Grpc;
using KmsPlugin.Server.Http2;
using KmsPlugin.Server.Observability;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KmsPlugin.Server.Hosting;

/// <summary>The running plugin: Kestrel on the unix socket (HTTP/2 only) with the KMS services.</summary>
internal sealed partial class PluginHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly PluginHostOptions _options;
    private int _disposed;

    private PluginHost(WebApplication app, PluginHostOptions options, EnvelopeEncryptor encryptor)
    {
        _app = app;
        _options = options;
        Encryptor = encryptor;
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
        IKeyEncryptionKeyProvider provider,
        Action<ILoggingBuilder>? configureLogging = null,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        UnixSocketFile.Prepare(options.SocketPath);
        var stagingPath = UnixSocketFile.CreateStagingPath(options.SocketPath);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();

        // Filters read the switch on every call, so a config reload changes the level at once.
        var levels = options.LogLevelSwitch ?? new LogLevelSwitch(options.LogLevel);
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddFilter((_, level) => level >= levels.Level);
        builder.Logging.AddFilter("Microsoft.AspNetCore", level => level >= LogLevel.Warning && level >= levels.Level);
        builder.Logging.AddFilter("Microsoft.Hosting", level => level >= LogLevel.Warning && level >= levels.Level);
        builder.Logging.AddFilter("Grpc", level => level >= LogLevel.Warning && level >= levels.Level);

        // Our own scope (method, uid) is what an operator needs; the per-request hosting scope and
        // trace ids are noise on a unix socket.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.None);
        if (configureLogging is null)
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.IncludeScopes = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                console.UseUtcTimestamp = true;
            });
        }
        else
        {
            configureLogging(builder.Logging);
        }

        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownGrace);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ListenUnixSocket(stagingPath, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (options.NormalizeAuthority)
                {
                    listen.UseAuthorityNormalizer();
                }
            });
            if (options.HealthEndpoint is { } health)
            {
                kestrel.Listen(health, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });

        var clock = time ?? TimeProvider.System;
        var encryptor = new EnvelopeEncryptor(provider, options.Envelope, clock);
        builder.Services.AddSingleton(provider);
        builder.Services.AddSingleton(encryptor);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton<RootKeyHealthProbe>();
        builder.Services.AddSingleton<PluginMetrics>();
        if (options.Reload is { } reload)
        {
            builder.Services.AddSingleton(reload);
            builder.Services.AddSingleton<RootKeyReloader>();
            builder.Services.AddHostedService(services => services.GetRequiredService<RootKeyReloader>());
        }
        builder.Services.AddHostedService(services => services.GetRequiredService<RootKeyHealthProbe>());
        builder.Services.AddGrpc(grpc =>
        {
            grpc.EnableDetailedErrors = false;
            grpc.MaxReceiveMessageSize = options.MaxRequestBytes;
            grpc.Interceptors.Add<RequestLogScopeInterceptor>();
            grpc.Interceptors.Add<MetricsInterceptor>();
            grpc.Interceptors.Add<KmsErrorInterceptor>();
        });

        var app = builder.Build();
        HealthEndpoints.Map(app, app.Services.GetRequiredService<PluginMetrics>());
        app.MapGrpcService<KeyManagementServiceV1>();
        app.MapGrpcService<KeyManagementServiceV2>();

        // The first answer to Status must already be a real one.
        await app.Services.GetRequiredService<RootKeyHealthProbe>().CheckNowAsync(cancellationToken).ConfigureAwait(false);

        var host = new PluginHost(app, options, encryptor);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            UnixSocketFile.Publish(stagingPath, options.SocketPath, options.SocketMode);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            UnixSocketFile.DiscardStaging(stagingPath);
            throw;
        }

        string primaryKeyId;
        try
        {
            primaryKeyId = provider.Primary.KeyId;
        }
        catch (Core.Errors.KmsException ex)
        {
            // A provider that cannot reach its keys yet (a PKCS#11 token away): serve unhealthy, it reconnects.
            primaryKeyId = $"unavailable ({ex.Message})";
        }

        LogListening(app.Logger, options.SocketPath, provider.Name, primaryKeyId, ProductInfo.Version);
        return host;
    }

    /// <summary>Runs until SIGTERM/SIGINT, then drains in-flight calls and removes the socket.</summary>
    public async Task RunUntilShutdownAsync()
    {
        await _app.WaitForShutdownAsync().ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            using var grace = new CancellationTokenSource(_options.ShutdownGrace);
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        }
        finally
        {
            UnixSocketFile.Remove(_options.SocketPath);
            LogStopped(_app.Logger, _options.SocketPath);
            await _app.DisposeAsync().ConfigureAwait(false);
            Encryptor.Dispose();
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "kms-plugin {Version} serving KMS v1beta1 and v2 on unix socket {SocketPath}, root keys: {Provider}, primary key_id {PrimaryKeyId}")]
    private static partial void LogListening(ILogger logger, string socketPath, string provider, string primaryKeyId, string version);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "stopped; socket {SocketPath} removed")]
    private static partial void LogStopped(ILogger logger, string socketPath);
}
