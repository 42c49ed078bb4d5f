using System.Text.Json.Nodes;

using KmsPlugin.Server.RootKeys;

namespace KmsPlugin.Server.Etcd;

/// <summary>The report as a table for people or as JSON for automation (shape: docs/etcd-verify.md).</summary>
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
            ["counts"] = CountsObject(report),
            ["by_provider"] = Counts(report.ByProvider),
            ["by_root_key"] = Counts(report.ByRootKey),
            ["root_keys"] = RootKeys(report),
            ["primary_root_key"] = report.PrimaryRootKey,
            ["backup"] = report.Backup,
            ["plugin_checked"] = report.PluginChecked,
            ["decrypt_checked"] = report.DecryptChecked,
            ["decrypted_ok"] = report.DecryptedOk,
            ["unknown_root_key_counts"] = Counts(report.UnknownRootKeyCounts()),
            ["unknown_root_key"] = new JsonArray([.. report.UnknownRootKey.Select(p => new JsonObject { ["key"] = p.Key, ["root_key"] = p.Reason })]),
            ["plaintext"] = Strings(report.Plaintext),
            ["unreadable"] = new JsonArray([.. report.Unreadable.Select(p => new JsonObject { ["key"] = p.Key, ["reason"] = p.Reason })]),
            ["on_older_root_key"] = Strings(report.OnOlderRootKey),
        }.ToJsonString());

    public static void WriteTable(TextWriter output, VerifyReport report)
    {
        output.WriteLine($"etcd verify: {report.Scanned} values under {report.Prefix} (etcd revision {report.Revision})");
        if (report.Backup is { } backup)
        {
            output.WriteLine($"root keys from the backup {backup} (no plugin involved)");
        }

        output.WriteLine();
        output.WriteLine("by provider:");
        foreach (var (provider, count) in report.ByProvider)
        {
            output.WriteLine($"  {provider,-40} {count,8}");
        }

        WriteRootKeys(output, report);
        WriteMissingRootKeys(output, report);
        Section(output, "plaintext (not encrypted; rewrite them)", report.Plaintext);
        Section(output, "unreadable", report.Unreadable.Select(p => $"{p.Key}: {p.Reason}").ToList());
        if (report.PluginChecked && report.Backup is null)
        {
            Section(output, "on an older root key (readable; rewrite after rotation)", report.OnOlderRootKey);
        }

        output.WriteLine();
        output.WriteLine(Summary(report));
        output.WriteLine(report.Passed ? "result: OK" : "result: FAILED");
    }

    private static void WriteRootKeys(TextWriter output, VerifyReport report)
    {
        if (report.ByRootKey.Count == 0)
        {
            return;
        }

        output.WriteLine();
        output.WriteLine(report.Backup is null ? "kms-plugin values by root key:" : "kms-plugin values by root key, and whether this backup has it:");
        var missing = report.UnknownRootKeyCounts();
        foreach (var (rootKey, count) in report.ByRootKey)
        {
            var note = report.Backup is not null ? (missing.ContainsKey(rootKey) ? "MISSING FROM THIS BACKUP" : "in the backup")
                : rootKey == report.PrimaryRootKey ? "primary"
                : missing.ContainsKey(rootKey) ? "NOT KNOWN TO THE PLUGIN"
                : report.PluginChecked ? "older root key" : "";
            output.WriteLine($"  {rootKey,-40} {count,8}  {note}");
        }
    }

    private static void WriteMissingRootKeys(TextWriter output, VerifyReport report)
    {
        if (report.UnknownRootKey.Count == 0)
        {
            return;
        }

        output.WriteLine();
        if (report.Backup is not null)
        {
            output.WriteLine($"!!! THIS BACKUP CANNOT READ {report.UnknownRootKey.Count} values: their root keys are not in it.");
            foreach (var (rootKey, count) in report.UnknownRootKeyCounts())
            {
                output.WriteLine($"!!!   root key {rootKey}: {count} values");
            }

            output.WriteLine("!!! Take a new backup of the current keys now; keep this one until the new one passes this drill.");
        }
        else
        {
            output.WriteLine($"!!! DATA ABOUT TO BE LOST: {report.UnknownRootKey.Count} values are under root keys the running plugin does not have.");
            output.WriteLine("!!! Find the keystore (or HSM key) that holds them before anything else; do not delete old keystores.");
        }

        List(output, report.UnknownRootKey.Select(p => $"{p.Key}  (root key {p.Reason})").ToList());
    }

    private static string Summary(VerifyReport report)
    {
        var source = report.Backup is null ? "the plugin" : "the backup";
        return !report.PluginChecked
            ? $"root keys not checked (give --socket, or the backup's root keys with {RootKeyModules.BackupSelectionShort})"
            : report.DecryptChecked
                ? $"decrypt check: {report.DecryptedOk} of {report.KmsPluginValues} kms-plugin values read back under their etcd keys with {source}'s root keys"
                : $"root keys checked against {source} (add --decrypt-check to open every value)";
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

    private static JsonObject CountsObject(VerifyReport report) => new()
    {
        ["scanned"] = report.Scanned,
        ["encrypted"] = report.Encrypted,
        ["kms_plugin"] = report.KmsPluginValues,
        ["plaintext"] = report.Plaintext.Count,
        ["unreadable"] = report.Unreadable.Count,
        ["unknown_root_key"] = report.UnknownRootKey.Count,
        ["on_older_root_key"] = report.OnOlderRootKey.Count,
        ["decrypted_ok"] = report.DecryptedOk,
    };

    /// <summary>Per root key the data needs: how many values, and (when checked) whether the plugin or backup has it.</summary>
    private static JsonArray RootKeys(VerifyReport report)
    {
        var missing = report.UnknownRootKeyCounts();
        return new JsonArray([.. report.ByRootKey.Select(pair => (JsonNode?)new JsonObject
        {
            ["id"] = pair.Key,
            ["values"] = pair.Value,
            ["available"] = report.PluginChecked ? !missing.ContainsKey(pair.Key) : null,
        })]);
    }

    private static JsonObject Counts(SortedDictionary<string, long> counts) =>
        new(counts.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value)));

    private static JsonArray Strings(List<string> values) => new([.. values.Select(value => (JsonNode?)value)]);
}
