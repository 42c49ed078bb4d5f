using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.RootKeys;
using Prometheus;

namespace KmsPlugin.Server.Observability;

/// <summary>
/// <c>kms_plugin_root_key_info{key_id, role, key_check_value}</c> = 1, one series per root key the
/// plugin holds, refreshed on every scrape from the provider's current key ring so it follows
/// reloads; series of keys that left the ring (or changed role) are removed. The values come from
/// the operator's key ring, never from a request, and key ids and check values are not secret.
/// </summary>
internal sealed class RootKeyInfoMetric
{
    private readonly Gauge _info;
    private readonly Gauge _generation;
    private readonly IRootKeyCatalog? _catalog;
    private readonly string _provider;
    private readonly Lock _lock = new();
    private HashSet<(string Id, string Role, string CheckValue)> _exported = [];

    public RootKeyInfoMetric(MetricFactory factory, IRootKeyProvider provider)
    {
        _catalog = provider as IRootKeyCatalog;
        _info = factory.CreateGauge(
            "kms_plugin_root_key_info",
            "One series per root key the plugin holds (value 1): its id, role and key check value, to compare nodes.",
            "key_id", "role", "key_check_value");
        _generation = factory.CreateGauge(
            "kms_plugin_primary_root_key_generation",
            "Promotion generation of the primary root key: the n of the KMS v2 key_id <primary>@n.",
            "provider");
        _provider = provider.Name;
    }

    public void Refresh()
    {
        if (_catalog is null)
        {
            return;
        }

        IReadOnlyList<RootKeyDescription> keys;
        try
        {
            keys = _catalog.DescribeKeys();
        }
        catch (KmsException)
        {
            // The keys cannot be reached (a token away): the last listing stays; health says why.
            return;
        }

        var current = keys.Select(k => (k.Id, Role: KeyStateText.Of(k.State), k.CheckValue)).ToHashSet();
        lock (_lock)
        {
            foreach (var gone in _exported.Where(series => !current.Contains(series)))
            {
                _info.RemoveLabelled(gone.Id, gone.Role, gone.CheckValue);
            }

            foreach (var series in current)
            {
                _info.WithLabels(series.Id, series.Role, series.CheckValue).Set(1);
            }

            _exported = current;
            if (keys.FirstOrDefault(k => k.State == KeyState.Primary)?.Generation is { } generation)
            {
                _generation.WithLabels(_provider).Set(generation);
            }
        }
    }

}
