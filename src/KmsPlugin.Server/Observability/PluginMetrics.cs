using KmsPlugin.Core.Envelope;
using KmsPlugin.Server.Hosting;
using Prometheus;

namespace KmsPlugin.Server.Observability;

/// <summary>
/// The plugin's Prometheus metrics, in a registry of its own (one per host). Every label is a
/// closed set — api, operation, outcome, provider — never an error text or anything a request
/// names; the one exception, kms_plugin_root_key_info, lists the operator's own key ring.
/// </summary>
internal sealed class PluginMetrics
{
    public PluginMetrics(EnvelopeEncryptor encryptor, RootKeyHealthProbe health, PluginHostOptions options, TimeProvider time, ReloadTrigger? reloader = null)
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        var requests = factory.CreateCounter("kms_plugin_requests_total", "KMS gRPC calls by API, operation and gRPC status.", "api", "operation", "outcome");
        var duration = factory.CreateHistogram("kms_plugin_request_duration_seconds", "KMS gRPC call latency.", new HistogramConfiguration
        {
            LabelNames = ["api", "operation"],
            Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
        });

        var inFlight = factory.CreateGauge("kms_plugin_requests_in_flight", "KMS gRPC calls received and not yet answered.", "api", "operation");
        Calls = new CallMetrics(requests, duration, inFlight);

        var cacheHits = factory.CreateGauge("kms_plugin_dek_cache_hits_total", "Decrypts served by an unwrapped data key from the cache.");
        var cacheMisses = factory.CreateGauge("kms_plugin_dek_cache_misses_total", "Decrypts that had to unwrap their data key through the root key.");
        var cacheEvictions = factory.CreateGauge("kms_plugin_dek_cache_evictions_total", "Unwrapped data keys dropped (and zeroed) to stay within the cache size.");
        var cacheEntries = factory.CreateGauge("kms_plugin_dek_cache_entries", "Unwrapped data keys held in memory.");
        factory.CreateGauge("kms_plugin_dek_cache_capacity", "Most unwrapped data keys the cache holds (--dek-cache-size).").Set(encryptor.Cache.Capacity);
        var rotations = factory.CreateGauge("kms_plugin_dek_rotations_total", "Plugin data keys generated (by use count, age or a new primary root key).");
        var healthy = factory.CreateGauge("kms_plugin_root_key_healthy", "1 when the last root-key round trip passed and is recent.", "provider");
        var lastCheck = factory.CreateGauge("kms_plugin_root_key_last_check_timestamp_seconds", "When the root key was last checked.", "provider");
        factory.CreateGauge("kms_plugin_build_info", "Build of the running plugin.", "version").WithLabels(ProductInfo.Version).Set(1);

        factory.CreateGauge("kms_plugin_root_key_expiry_warning_seconds", "How long before the primary root key expires the plugin starts warning (--expiry-warning).")
            .Set(options.ExpiryWarning.TotalSeconds);
        var expiry = factory.CreateGauge("kms_plugin_primary_root_key_expiry_seconds", "Seconds until the primary root key expires (negative once expired); absent when it does not expire.", "provider");
        var expiresAt = factory.CreateGauge("kms_plugin_primary_root_key_expiry_timestamp_seconds", "When the primary root key expires (Unix time); absent when it does not expire.", "provider");
        var keyInfo = new RootKeyInfoMetric(factory, encryptor.Provider);
        var reloads = factory.CreateGauge("kms_plugin_root_key_reloads_total", "Reloads of the root keys (file change or SIGHUP) by outcome.", "outcome");
        var provider = encryptor.Provider.Name;
        Registry.AddBeforeCollectCallback(() =>
        {
            cacheHits.Set(encryptor.Cache.Hits);
            cacheMisses.Set(encryptor.Cache.Misses);
            cacheEvictions.Set(encryptor.Cache.Evictions);
            cacheEntries.Set(encryptor.Cache.Count);
            rotations.Set(encryptor.DataKeyRotations);
            healthy.WithLabels(provider).Set(health.Healthz == "ok" ? 1 : 0);
            SetExpiry(expiry, expiresAt, provider, health.Current, time.GetUtcNow());
            keyInfo.Refresh();

            if (reloader is not null)
            {
                reloads.WithLabels("ok").Set(reloader.Reloads);
                reloads.WithLabels("failed").Set(reloader.Failures);
            }

            lastCheck.WithLabels(provider).Set(health.Current.CheckedAt == DateTimeOffset.MinValue ? 0 : health.Current.CheckedAt.ToUnixTimeMilliseconds() / 1000.0);
        });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>kms_plugin_requests_total, _request_duration_seconds and _requests_in_flight, by gRPC method.</summary>
    public CallMetrics Calls { get; }

    // A promoted primary without an expiry must not leave the old one's series behind (the expiry
    // alerts would keep firing); a failed check that could not read the expiry changes nothing.
    private static void SetExpiry(Gauge secondsLeft, Gauge timestamp, string provider, RootKeyHealthReport report, DateTimeOffset now)
    {
        if (report.PrimaryExpiresAt is { } at)
        {
            secondsLeft.WithLabels(provider).Set((at - now).TotalSeconds);
            timestamp.WithLabels(provider).Set(at.ToUnixTimeMilliseconds() / 1000.0);
        }
        else if (report.Healthy)
        {
            secondsLeft.RemoveLabelled(provider);
            timestamp.RemoveLabelled(provider);
        }
    }
}
