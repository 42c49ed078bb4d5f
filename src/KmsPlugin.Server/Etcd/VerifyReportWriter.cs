using System.Text.Json.Nodes;

namespace KmsPlugin.Server.Etcd;

/// <summary>The report as a table for people or as JSON for automation.</summary>
internal static class VerifyReportWriter
{
    private const int ListedPerSection = 20;

    public static void WriteJson(TextWriter output, VerifyReport report) =>
        // JSON nodes rather than reflection over anonymous types, so the NativeAOT build can print it.
        output.WriteLine(new JsonObject
        {
            ["prefix"] = report.Prefix,
            ["revision"] = report.Revision,
            ["scanned"] = report.Scanned,
            ["passed"] = report.Passed,
            ["by_provider"] = Counts(report.ByProvider),
            ["by_root_key"] = Counts(report.ByRootKey),
            ["primary_root_key"] = report.PrimaryRootKey,
            ["plugin_checked"] = report.PluginChecked,
            ["decrypt_checked"] = report.DecryptChecked,
            ["decrypted_ok"] = report.DecryptedOk,
            ["unknown_root_key"] = new JsonArray([.. report.UnknownRootKey.Select(p => new JsonObject { ["key"] = p.Key, ["root_key"] = p.Reason })]),
            ["plaintext"] = Strings(report.Plaintext),
            ["unreadable"] = new JsonArray([.. report.Unreadable.Select(p => new JsonObject { ["key"] = p.Key, ["reason"] = p.Reason })]),
            ["on_older_root_key"] = Strings(report.OnOlderRootKey),
        }.ToJsonString());

    public static void WriteTable(TextWriter output, VerifyReport report)
    {
        output.WriteLine($"etcd verify: {report.Scanned} values under {report.Prefix} (etcd revision {report.Revision})");
        output.WriteLine();
        output.WriteLine("by provider:");
        foreach (var (provider, count) in report.ByProvider)
        {
            output.WriteLine($"  {provider,-40} {count,8}");
        }

        if (report.ByRootKey.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("kms-plugin values by root key:");
            foreach (var (rootKey, count) in report.ByRootKey)
            {
                var note = rootKey == report.PrimaryRootKey ? "primary"
                    : report.UnknownRootKey.Any(p => p.Reason == rootKey) ? "NOT KNOWN TO THE PLUGIN"
                    : report.PluginChecked ? "older root key" : "";
                output.WriteLine($"  {rootKey,-40} {count,8}  {note}");
            }
        }

        if (report.UnknownRootKey.Count > 0)
        {
            output.WriteLine();
            output.WriteLine($"!!! DATA ABOUT TO BE LOST: {report.UnknownRootKey.Count} values are under root keys the running plugin does not have.");
            output.WriteLine("!!! Find the keystore (or HSM key) that holds them before anything else; do not delete old keystores.");
            List(output, report.UnknownRootKey.Select(p => $"{p.Key}  (root key {p.Reason})").ToList());
        }

        Section(output, "plaintext (not encrypted; rewrite them)", report.Plaintext);
        Section(output, "unreadable", report.Unreadable.Select(p => $"{p.Key}: {p.Reason}").ToList());
        if (report.PluginChecked)
        {
            Section(output, "on an older root key (readable; rewrite after rotation)", report.OnOlderRootKey);
        }

        output.WriteLine();
        output.WriteLine(!report.PluginChecked
            ? "root keys not checked against a plugin (give --socket)"
            : report.DecryptChecked
                ? $"decrypt check: {report.DecryptedOk} of {report.ByRootKey.Values.Sum()} kms-plugin values read back under their etcd keys"
                : "root keys checked against the plugin (add --decrypt-check to open every value)");
        output.WriteLine(report.Passed ? "result: OK" : "result: FAILED");
    }

    private static void Section(TextWriter output, string title, List<string> keys)
    {
        output.WriteLine();
        output.WriteLine($"{title}: {keys.Count}");
        List(output, keys);
    }

    private static void List(TextWriter output, List<string> lines)
    {
        foreach (var line in lines.Take(ListedPerSection))
        {
            output.WriteLine($"  {line}");
        }

        if (lines.Count > ListedPerSection)
        {
            output.WriteLine($"  … and {lines.Count - ListedPerSection} more (--output json lists all)");
        }
    }

    private static JsonObject Counts(SortedDictionary<string, long> counts) =>
        new(counts.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value)));

    private static JsonArray Strings(List<string> values) => new([.. values.Select(value => (JsonNode?)value)]);
}
