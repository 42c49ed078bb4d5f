using System.Runtime.InteropServices;
using KmsPlugin.Server.Observability;

namespace KmsPlugin.Server.Hosting;

/// <summary>
/// Reloads the root keys and the config file when one of their files changes (the CLI writes the
/// keystore by atomic rename) or on SIGHUP; a file that cannot be watched is polled instead. Bursts of file events are folded into one reload. A reload that fails keeps the
/// running key ring and says why; nothing is ever dropped from memory because a file went bad.
/// </summary>
internal sealed partial class ReloadTrigger : BackgroundService
{
    /// <summary>The log category from before the rename, which log filters and alerts may name.</summary>
    private const string LogCategory = "KmsPlugin.Server.Hosting.RootKeyReloader";

    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    private readonly ReloadRequest _reload;
    private readonly RootKeyHealthProbe _health;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly TimeSpan _pollInterval;
    private long _reloads;
    private long _failures;

    public ReloadTrigger(ReloadRequest reload, RootKeyHealthProbe health, PluginHostOptions options, ILoggerFactory loggers)
    {
        _pollInterval = options.ReloadPollInterval;
        _reload = reload;
        _health = health;
        _logger = loggers.CreateLogger(LogCategory);
    }

    public long Reloads => Interlocked.Read(ref _reloads);

    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Asks for a reload, as a file change or SIGHUP does.</summary>
    public void Request()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        FileChangeMonitor? monitor = null;
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            LogSignal(_logger);
            Request();
        });

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Asked again after every reload: the reload may have pointed at another keystore.
                var files = _reload.WatchedFiles().Select(Path.GetFullPath).ToList();
                if (monitor is null || !files.SequenceEqual(monitor.Files, StringComparer.Ordinal))
                {
                    monitor?.Dispose();
                    monitor = new FileChangeMonitor(files, _pollInterval, Request, _logger);
                }

                await _signal.WaitAsync(stoppingToken).ConfigureAwait(false);
                await Task.Delay(Settle, stoppingToken).ConfigureAwait(false);
                while (_signal.CurrentCount > 0)
                {
                    await _signal.WaitAsync(stoppingToken).ConfigureAwait(false);
                }

                await ReloadOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            monitor?.Dispose();
        }
    }

    private async Task ReloadOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await _reload.ReloadAsync(_logger, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _reloads);
            LogReloaded(_logger, outcome);
            await _health.CheckNowAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ReloadRejectedException ex)
        {
            Interlocked.Increment(ref _failures);
            LogRejected(_logger, ex.Problems.Count, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Interlocked.Increment(ref _failures);
            LogFailed(_logger, ex is Core.Errors.KmsException or IOException or UnauthorizedAccessException ? ex.Message : "unexpected error (see the next log line)");
            if (ex is not (Core.Errors.KmsException or IOException or UnauthorizedAccessException))
            {
                LogUnexpected(_logger, ex);
            }
        }
    }

    [LoggerMessage(EventId = LogEvents.RootKeysReloaded, EventName = nameof(LogEvents.RootKeysReloaded), Level = LogLevel.Information, Message = "root keys reloaded: {Outcome}")]
    private static partial void LogReloaded(ILogger logger, string outcome);

    [LoggerMessage(EventId = LogEvents.RootKeyReloadFailed, EventName = nameof(LogEvents.RootKeyReloadFailed), Level = LogLevel.Error, Message = "root key reload failed; the running key ring is unchanged: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = LogEvents.ConfigurationReloadRejected, EventName = nameof(LogEvents.ConfigurationReloadRejected), Level = LogLevel.Error, Message = "configuration reload failed; the running configuration and key ring are unchanged. {Count} problem(s): {Problems}")]
    private static partial void LogRejected(ILogger logger, int count, string problems);

    [LoggerMessage(EventId = LogEvents.ReloadSignal, EventName = nameof(LogEvents.ReloadSignal), Level = LogLevel.Information, Message = "SIGHUP: reloading root keys")]
    private static partial void LogSignal(ILogger logger);

    [LoggerMessage(EventId = LogEvents.ReloadThrew, EventName = nameof(LogEvents.ReloadThrew), Level = LogLevel.Error, Message = "root key reload threw")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);
}
