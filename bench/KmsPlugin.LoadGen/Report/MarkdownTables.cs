using System.Globalization;
using System.Text;
using KmsPlugin.LoadGen.ColdStart;
using KmsPlugin.LoadGen.Load;

namespace KmsPlugin.LoadGen.Report;

/// <summary>
/// The tables of docs/performance.md (the README repeats the first), from the medians over the run's rounds: every target against the baseline
/// target of the same run (same API, authority, callers, mix and size) with issue 15's verdict
/// (throughput at least, p99 at most the baseline's), the plugin's rewritten authorities against
/// its localhost rows, and the cold-start phases with the decrypt time against the baseline's.
/// </summary>
internal static class MarkdownTables
{
    public static string Render(ResultSet results, string baseline)
    {
        var text = new StringBuilder();
        var load = RoundMedians.Of(results.Load);
        if (load.Count > 0)
        {
            text.AppendLine(Invariant($"Medians of {RoundMedians.Rounds(results.Load)} round(s) per case; the servers took turns within each round."));
            text.AppendLine();
        }

        AgainstBaseline(text, load, baseline);
        AuthorityCost(text, load, baseline);
        ColdStart(text, RoundMedians.Of(results.ColdStart), baseline);
        return text.ToString();
    }

    private static void AgainstBaseline(StringBuilder text, List<LoadResult> load, string baseline)
    {
        var reference = load.Where(r => r.Target == baseline).ToDictionary(Key);
        var rows = load.Where(r => r.Target != baseline)
            .OrderBy(r => r.Target).ThenBy(r => r.Api).ThenBy(r => r.Authority).ThenBy(r => r.Mix).ThenBy(r => r.Concurrency).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        text.AppendLine($"| server | API | `:authority` | calls | callers | calls/s | {baseline} calls/s | ratio | p99 | {baseline} p99 | ratio | target | server CPU | RSS | peak RSS |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            reference.TryGetValue(Key(r), out var b);
            text.AppendLine(Invariant($"| {r.Target} | {r.Api} | {r.Authority} | {Operations(r.Mix, r.Size)} | {r.Concurrency} | {r.CallsPerSecond:N0} | {b?.CallsPerSecond.ToString("N0", CultureInfo.InvariantCulture) ?? "—"} | {Ratio(r.CallsPerSecond, b?.CallsPerSecond)} | {r.P99Ms:F2} ms | {(b is null ? "—" : Invariant($"{b.P99Ms:F2} ms"))} | {Ratio(r.P99Ms, b?.P99Ms)} | {Verdict(r, b)} | {r.ServerCpuCores:F2} | {r.ServerRssMib:F0} MiB | {r.ServerPeakRssMib:F0} MiB |"));
        }

        text.AppendLine();
    }

    private static void AuthorityCost(StringBuilder text, List<LoadResult> load, string baseline)
    {
        var localhost = load.Where(r => r.Authority == "localhost").ToDictionary(r => (r.Target, r.Api, r.Concurrency, r.Mix, r.Size));
        var rows = load.Where(r => r.Target != baseline && r.Authority != "localhost" && localhost.ContainsKey((r.Target, r.Api, r.Concurrency, r.Mix, r.Size)))
            .OrderBy(r => r.Target).ThenBy(r => r.Api).ThenBy(r => r.Authority).ThenBy(r => r.Concurrency).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        text.AppendLine("| server | API | `:authority` | calls | callers | calls/s | localhost calls/s | ratio | p99 | localhost p99 |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            if (localhost.TryGetValue((r.Target, r.Api, r.Concurrency, r.Mix, r.Size), out var l))
            {
                text.AppendLine(Invariant($"| {r.Target} | {r.Api} | {r.Authority} | {Operations(r.Mix, r.Size)} | {r.Concurrency} | {r.CallsPerSecond:N0} | {l.CallsPerSecond:N0} | {Ratio(r.CallsPerSecond, l.CallsPerSecond)} | {r.P99Ms:F2} ms | {l.P99Ms:F2} ms |"));
            }
        }

        text.AppendLine();
    }

    private static void ColdStart(StringBuilder text, List<ColdStartResult> phases, string baseline)
    {
        if (phases.Count == 0)
        {
            return;
        }

        // The baseline keeps its key only in memory: it decrypts without a restart, the easier case.
        var reference = phases.Where(p => p.Target == baseline && p.Phase == "decrypt").ToDictionary(p => (p.Api, p.Count, p.Concurrency));
        text.AppendLine($"| server | API | phase | DEKs | callers | total | calls/s | p50 | p99 | max | decrypt time / {baseline}'s | target |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var p in phases.OrderBy(p => p.Api, StringComparer.Ordinal).ThenBy(p => p.Count).ThenBy(p => p.Target, StringComparer.Ordinal).ThenBy(p => p.Phase == "encrypt" ? 0 : 1))
        {
            var b = p.Phase == "decrypt" && p.Target != baseline && reference.TryGetValue((p.Api, p.Count, p.Concurrency), out var found) ? found : null;
            string verdict = b is null ? "—" : p.Errors == 0 && p.Seconds <= b.Seconds ? "met" : "missed";
            text.AppendLine(Invariant($"| {p.Target} | {p.Api} | {p.Phase} | {p.Count:N0} | {p.Concurrency} | {p.Seconds:F3} s | {p.CallsPerSecond:N0} | {p.P50Ms:F2} ms | {p.P99Ms:F2} ms | {p.MaxMs:F2} ms | {Ratio(p.Seconds, b?.Seconds)} | {verdict} |"));
        }

        text.AppendLine();
    }

    /// <summary>Issue 15: throughput at least 1.00× and p99 at most 1.00× the baseline's, with no failed call.</summary>
    private static string Verdict(LoadResult r, LoadResult? b) =>
        b is null ? "—" : r.Errors == 0 && r.CallsPerSecond >= b.CallsPerSecond && r.P99Ms <= b.P99Ms ? "met" : "missed";

    private static string Operations(string mix, int size) => mix switch
    {
        "1:0" => Invariant($"Encrypt {size} B"),
        "0:1" => Invariant($"Decrypt {size} B"),
        _ => Invariant($"Encrypt:Decrypt {mix}, {size} B"),
    };

    private static (string, string, int, string, int) Key(LoadResult r) => (r.Api, r.Authority, r.Concurrency, r.Mix, r.Size);

    private static string Ratio(double value, double? reference) =>
        reference is > 0 ? Invariant($"{value / reference.Value:F2}×") : "—";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
