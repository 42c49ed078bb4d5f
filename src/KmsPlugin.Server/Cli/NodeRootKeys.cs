using System.Globalization;

namespace KmsPlugin.Server.Cli;

/// <summary>What one plugin's metrics page says about its root keys, for `status --compare`.</summary>
internal sealed record NodeRootKeys(string Node, bool Healthy, string Primary, string KeyId, IReadOnlyList<NodeRootKey> Keys)
{
    /// <summary>The node's listing, or null when its page has no kms_plugin_root_key_info (an older plugin, or keys it cannot list).</summary>
    public static NodeRootKeys? From(string node, MetricsPage page)
    {
        var keys = page.Samples("kms_plugin_root_key_info")
            .Where(s => s.Value == 1)
            .Select(s => new NodeRootKey(Printable(s.Label("key_id")), Printable(s.Label("role")), Printable(s.Label("key_check_value"))))
            .OrderBy(k => k.Id, StringComparer.Ordinal)
            .ToList();
        if (keys.Count == 0)
        {
            return null;
        }

        var primary = keys.FirstOrDefault(k => k.Role == "primary")?.Id ?? "-";
        var generation = page.Samples("kms_plugin_primary_root_key_generation").Select(s => s.Value).FirstOrDefault();
        var keyId = primary != "-" && generation >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{primary}@{generation:0}") : "-";
        var healthy = page.Samples("kms_plugin_root_key_healthy").Any(s => s.Value == 1);
        return new NodeRootKeys(node, healthy, primary, keyId, keys);
    }

    // Label values come from another machine: no control characters reach the terminal.
    private static string Printable(string text) =>
        string.Concat(text.Select(c => char.IsControl(c) ? '?' : c));
}
