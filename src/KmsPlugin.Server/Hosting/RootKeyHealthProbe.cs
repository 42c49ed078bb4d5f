using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Observability;

namespace KmsPlugin.Server.Hosting;

/// <summary>
/// Keeps a fresh answer to "does the root key work?" by wrapping and unwrapping a random key
/// through the primary in the background, so KMS v2 Status (polled every minute and on every
/// kube-apiserver /healthz hit) never costs a root-key call itself.
/// </summary>
internal sealed partial class RootKeyHealthProbe : BackgroundService
{
    private static readonly byte[] ProbeContext = "kms-plugin health probe"u8.ToArray();

    private readonly IRootKeyProvider _provider;
    private readonly PluginHostOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RootKeyHealthProbe> _logger;
    private RootKeyHealthReport _current = RootKeyHealthReport.NotYetChecked;

    public RootKeyHealthProbe(IRootKeyProvider provider, PluginHostOptions options, TimeProvider time, ILogger<RootKeyHealthProbe> logger)
    {
        _provider = provider;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public RootKeyHealthReport Current => Volatile.Read(ref _current);

    /// <summary>"ok" only for a passed check no older than <see cref="PluginHostOptions.HealthStaleAfter"/>.</summary>
    public string Healthz
    {
        get
        {
            var report = Current;
            if (!report.Healthy)
            {
                return report.Detail;
            }

            return _time.GetUtcNow() - report.CheckedAt <= _options.HealthStaleAfter
                ? "ok"
                : $"root key check is stale: last passed at {report.CheckedAt:yyyy-MM-ddTHH:mm:ssZ}";
        }
    }

    /// <summary>
    /// What the health listener answers: "ok" or a fixed phrase from <see cref="HealthReasons"/>,
    /// never a key id, path or error text (those are in the log and in v2 Status).
    /// </summary>
    public string PublicHealthz
    {
        get
        {
            var healthz = Healthz;
            return healthz is "ok" ? healthz : Current.Healthy ? HealthReasons.Stale : Current.Reason;
        }
    }

    public async Task<RootKeyHealthReport> CheckNowAsync(CancellationToken cancellationToken)
    {
        var report = await RoundTripAsync(cancellationToken).ConfigureAwait(false);
        var previous = Interlocked.Exchange(ref _current, report);
        if (report.Healthy != previous.Healthy || (!report.Healthy && report.Detail != previous.Detail))
        {
            if (report.Healthy)
            {
                LogHealthy(_logger, report.KeyId ?? "?");
            }
            else
            {
                LogUnhealthy(_logger, report.Detail);
            }
        }

        if (previous.KeyId is not null && report.KeyId is not null && previous.KeyId != report.KeyId)
        {
            LogPrimaryChanged(_logger, previous.KeyId, report.KeyId);
        }

        if (report is { Healthy: true, PrimaryExpiresAt: { } expiry } && expiry - report.CheckedAt <= _options.ExpiryWarning)
        {
            LogExpiresSoon(_logger, report.KeyId ?? "?", expiry, Math.Max(0, (expiry - report.CheckedAt).TotalDays));
        }

        return report;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = Current.Healthy ? _options.HealthProbeInterval : _options.HealthProbeIntervalWhenUnhealthy;
            try
            {
                await Task.Delay(wait, _time, stoppingToken).ConfigureAwait(false);
                await CheckNowAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task<RootKeyHealthReport> RoundTripAsync(CancellationToken cancellationToken)
    {
        string? keyId = null;
        var probe = RandomNumberGenerator.GetBytes(32);
        var unwrapped = new byte[64];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.HealthProbeTimeout);
        DateTimeOffset? expiresAt = null;
        try
        {
            var primary = _provider.Primary;
            keyId = primary.KeyId;
            expiresAt = primary.ExpiresAt;
            var wrapped = await primary.Key.WrapAsync(probe, ProbeContext, timeout.Token).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
            var length = await primary.Key.UnwrapAsync(wrapped, ProbeContext, unwrapped, timeout.Token).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
            return CryptographicOperations.FixedTimeEquals(unwrapped.AsSpan(0, length), probe)
                ? new RootKeyHealthReport(true, "ok", _time.GetUtcNow(), keyId) { PrimaryExpiresAt = expiresAt }
                : new RootKeyHealthReport(false, "root key check failed: unwrap returned different bytes", _time.GetUtcNow(), keyId) { Reason = HealthReasons.Mismatch };
        }
        catch (KmsException ex)
        {
            // An expired primary throws before its expiry can be read: keep the last one known.
            return new RootKeyHealthReport(false, $"root key check failed: {ex.Message}", _time.GetUtcNow(), keyId) { PrimaryExpiresAt = expiresAt ?? Current.PrimaryExpiresAt, Reason = HealthReasons.Unavailable };
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new RootKeyHealthReport(false, $"root key check timed out after {_options.HealthProbeTimeout.TotalSeconds:0.#}s", _time.GetUtcNow(), keyId) { Reason = HealthReasons.TimedOut };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogProbeError(_logger, ex);
            return new RootKeyHealthReport(false, "root key check failed: internal error (see plugin log)", _time.GetUtcNow(), keyId) { Reason = HealthReasons.Error };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(probe);
            CryptographicOperations.ZeroMemory(unwrapped);
        }
    }

    [LoggerMessage(EventId = LogEvents.RootKeyHealthy, EventName = nameof(LogEvents.RootKeyHealthy), Level = LogLevel.Information, Message = "root key check passed; primary key_id {KeyId}")]
    private static partial void LogHealthy(ILogger logger, string keyId);

    [LoggerMessage(EventId = LogEvents.RootKeyUnhealthy, EventName = nameof(LogEvents.RootKeyUnhealthy), Level = LogLevel.Warning, Message = "unhealthy: {Detail}")]
    private static partial void LogUnhealthy(ILogger logger, string detail);

    [LoggerMessage(EventId = LogEvents.PrimaryRootKeyChanged, EventName = nameof(LogEvents.PrimaryRootKeyChanged), Level = LogLevel.Information, Message = "primary root key changed: key_id {PreviousKeyId} -> {KeyId}")]
    private static partial void LogPrimaryChanged(ILogger logger, string previousKeyId, string keyId);

    [LoggerMessage(EventId = LogEvents.PrimaryRootKeyExpiresSoon, EventName = nameof(LogEvents.PrimaryRootKeyExpiresSoon), Level = LogLevel.Warning, Message = "primary root key (key_id {KeyId}) expires at {ExpiresAt:u}, in {DaysLeft:0.#} days: add and promote a new root key before then, or new writes will fail")]
    private static partial void LogExpiresSoon(ILogger logger, string keyId, DateTimeOffset expiresAt, double daysLeft);

    [LoggerMessage(EventId = LogEvents.HealthCheckFailed, EventName = nameof(LogEvents.HealthCheckFailed), Level = LogLevel.Error, Message = "root key check threw an unexpected error")]
    private static partial void LogProbeError(ILogger logger, Exception exception);
}
