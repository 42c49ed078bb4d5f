using System.Globalization;
using System.Text;
using KmsPlugin.LoadGen.ColdStart;
using KmsPlugin.LoadGen.Load;

namespace KmsPlugin.LoadGen.Report;

/// <summary>
/// The tables of docs/performance.md (the README repeats the first): every target against the
/// baseline target of the same run (same API, authority, callers, mix and size), the plugin's
/// socket-path authority against its localhost rows, and the cold-start phases.
/// </summary>
internal static class MarkdownTables
{
    public static string Render(ResultSet results, string baseline)
    {
        var text = new StringBuilder();
        AgainstBaseline(text, results.Load, baseline);
        AuthorityCost(text, results.Load, baseline);
        ColdStart(text, results.ColdStart);
        return text.ToString();
    }

    private static void AgainstBaseline(StringBuilder text, List<LoadResult> load, string baseline)
    {
        var reference = load.Where(r => r.Target == baseline).ToDictionary(Key);
        var rows = load.Where(r => r.Target != baseline).OrderBy(r => r.Target).ThenBy(r => r.Api).ThenBy(r => r.Authority).ThenBy(r => r.Concurrency).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        text.AppendLine($"| server | API | `:authority` | callers | calls/s | {baseline} calls/s | ratio | p99 | {baseline} p99 | ratio | server CPU | RSS |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            reference.TryGetValue(Key(r), out var b);
            text.AppendLine(Invariant($"| {r.Target} | {r.Api} | {r.Authority} | {r.Concurrency} | {r.CallsPerSecond:N0} | {b?.CallsPerSecond.ToString("N0", CultureInfo.InvariantCulture) ?? "—"} | {Ratio(r.CallsPerSecond, b?.CallsPerSecond)} | {r.P99Ms:F2} ms | {(b is null ? "—" : Invariant($"{b.P99Ms:F2} ms"))} | {Ratio(r.P99Ms, b?.P99Ms)} | {r.ServerCpuCores:F2} | {r.ServerRssMib:F0} MiB |"));
        }

        text.AppendLine();
    }

    private static void AuthorityCost(StringBuilder text, List<LoadResult> load, string baseline)
    {
        var localhost = load.Where(r => r.Authority == "localhost").ToDictionary(r => (r.Target, r.Api, r.Concurrency, r.Mix, r.Size));
        var rows = load.Where(r => r.Target != baseline && r.Authority == "socket-path").OrderBy(r => r.Target).ThenBy(r => r.Api).ThenBy(r => r.Concurrency).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        text.AppendLine("| server | API | callers | socket-path calls/s | localhost calls/s | ratio | socket-path p99 | localhost p99 |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            if (localhost.TryGetValue((r.Target, r.Api, r.Concurrency, r.Mix, r.Size), out var l))
            {
                text.AppendLine(Invariant($"| {r.Target} | {r.Api} | {r.Concurrency} | {r.CallsPerSecond:N0} | {l.CallsPerSecond:N0} | {Ratio(r.CallsPerSecond, l.CallsPerSecond)} | {r.P99Ms:F2} ms | {l.P99Ms:F2} ms |"));
            }
        }

        text.AppendLine();
    }

    private static void ColdStart(StringBuilder text, List<ColdStartResult> phases)
    {
        if (phases.Count == 0)
        {
            return;
        }

        text.AppendLine("| server | API | phase | DEKs | callers | total | calls/s | p50 | p99 | max |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var p in phases.OrderBy(p => p.Target, StringComparer.Ordinal).ThenBy(p => p.Phase == "encrypt" ? 0 : 1))
        {
            text.AppendLine(Invariant($"| {p.Target} | {p.Api} | {p.Phase} | {p.Count:N0} | {p.Concurrency} | {p.Seconds:F3} s | {p.CallsPerSecond:N0} | {p.P50Ms:F2} ms | {p.P99Ms:F2} ms | {p.MaxMs:F2} ms |"));
        }

        text.AppendLine();
    }

    private static (string, string, int, string, int) Key(LoadResult r) => (r.Api, r.Authority, r.Concurrency, r.Mix, r.Size);

    private static string Ratio(double value, double? reference) =>
        reference is > 0 ? Invariant($"{value / reference.Value:F2}×") : "—";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
