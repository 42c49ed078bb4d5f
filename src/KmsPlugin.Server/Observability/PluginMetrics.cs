using KmsPlugin.Core.Envelope;
using KmsPlugin.Server.Hosting;
using Prometheus;

namespace KmsPlugin.Server.Observability;

/// <summary>
/// The plugin's Prometheus metrics, in a registry of its own (one per host). Every label is a
/// closed set — api, operation, outcome, provider — never a key id or an error text.
/// </summary>
internal sealed class PluginMetrics
{
    public PluginMetrics(EnvelopeEncryptor encryptor, RootKeyHealthProbe health, TimeProvider time, RootKeyReloader? reloader = null)
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        Requests = factory.CreateCounter("kms_plugin_requests_total", "KMS gRPC calls by API, operation and gRPC status.", "api", "operation", "outcome");
        RequestDuration = factory.CreateHistogram("kms_plugin_request_duration_seconds", "KMS gRPC call latency.", new HistogramConfiguration
        {
            LabelNames = ["api", "operation"],
            Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
        });

        InFlight = factory.CreateGauge("kms_plugin_requests_in_flight", "KMS gRPC calls received and not yet answered.", "api", "operation");

        var cacheHits = factory.CreateGauge("kms_plugin_dek_cache_hits_total", "Decrypts served by an unwrapped data key from the cache.");
        var cacheMisses = factory.CreateGauge("kms_plugin_dek_cache_misses_total", "Decrypts that had to unwrap their data key through the root key.");
        var cacheEvictions = factory.CreateGauge("kms_plugin_dek_cache_evictions_total", "Unwrapped data keys dropped (and zeroed) to stay within the cache size.");
        var cacheEntries = factory.CreateGauge("kms_plugin_dek_cache_entries", "Unwrapped data keys held in memory.");
        var rotations = factory.CreateGauge("kms_plugin_dek_rotations_total", "Plugin data keys generated (by use count, age or a new primary root key).");
        var healthy = factory.CreateGauge("kms_plugin_root_key_healthy", "1 when the last root-key round trip passed and is recent.", "provider");
        var lastCheck = factory.CreateGauge("kms_plugin_root_key_last_check_timestamp_seconds", "When the root key was last checked.", "provider");
        factory.CreateGauge("kms_plugin_build_info", "Build of the running plugin.", "version").WithLabels(ProductInfo.Version).Set(1);

        var expiry = factory.CreateGauge("kms_plugin_primary_root_key_expiry_seconds", "Seconds until the primary root key expires (negative once expired); absent when it does not expire.", "provider");
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
            if (health.Current.PrimaryExpiresAt is { } expiresAt)
            {
                expiry.WithLabels(provider).Set((expiresAt - time.GetUtcNow()).TotalSeconds);
            }

            if (reloader is not null)
            {
                reloads.WithLabels("ok").Set(reloader.Reloads);
                reloads.WithLabels("failed").Set(reloader.Failures);
            }

            lastCheck.WithLabels(provider).Set(health.Current.CheckedAt == DateTimeOffset.MinValue ? 0 : health.Current.CheckedAt.ToUnixTimeMilliseconds() / 1000.0);
        });
    }

    public CollectorRegistry Registry { get; }

    public Counter Requests { get; }

    public Histogram RequestDuration { get; }

    public Gauge InFlight { get; }
}
