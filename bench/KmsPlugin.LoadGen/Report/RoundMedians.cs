using KmsPlugin.LoadGen.ColdStart;
using KmsPlugin.LoadGen.Load;

namespace KmsPlugin.LoadGen.Report;

/// <summary>
/// Collapses the rounds of one run (the same case measured again, servers taking turns) into one
/// row per case: the median of each figure, the highest peak RSS, the errors summed.
/// </summary>
internal static class RoundMedians
{
    public static List<LoadResult> Of(IEnumerable<LoadResult> load) =>
        load.GroupBy(r => (r.Target, r.Api, r.Authority, r.Concurrency, r.Mix, r.Size))
            .Select(g => g.First() with
            {
                Seconds = Median(g, r => r.Seconds),
                Calls = (long)Median(g, r => r.Calls),
                Errors = g.Sum(r => r.Errors),
                FirstError = g.Select(r => r.FirstError).FirstOrDefault(e => e is not null),
                CallsPerSecond = Median(g, r => r.CallsPerSecond),
                P50Ms = Median(g, r => r.P50Ms),
                P90Ms = Median(g, r => r.P90Ms),
                P99Ms = Median(g, r => r.P99Ms),
                MaxMs = g.Max(r => r.MaxMs),
                ServerRssMib = Median(g, r => r.ServerRssMib),
                ServerPeakRssMib = g.Max(r => r.ServerPeakRssMib),
                ServerCpuCores = Median(g, r => r.ServerCpuCores),
                ClientCpuCores = Median(g, r => r.ClientCpuCores),
            })
            .ToList();

    public static List<ColdStartResult> Of(IEnumerable<ColdStartResult> phases) =>
        phases.GroupBy(p => (p.Target, p.Api, p.Phase, p.Count, p.Concurrency))
            .Select(g => g.First() with
            {
                Seconds = Median(g, p => p.Seconds),
                CallsPerSecond = Median(g, p => p.CallsPerSecond),
                P50Ms = Median(g, p => p.P50Ms),
                P99Ms = Median(g, p => p.P99Ms),
                MaxMs = g.Max(p => p.MaxMs),
                Errors = g.Sum(p => p.Errors),
                FirstError = g.Select(p => p.FirstError).FirstOrDefault(e => e is not null),
                ServerRssMib = Median(g, p => p.ServerRssMib),
            })
            .ToList();

    /// <summary>How many rounds the case with the fewest has (1 when there is nothing to take a median of).</summary>
    public static int Rounds(IEnumerable<LoadResult> load) =>
        load.GroupBy(r => (r.Target, r.Api, r.Authority, r.Concurrency, r.Mix, r.Size)).Select(g => g.Count()).DefaultIfEmpty(1).Min();

    private static double Median<T>(IEnumerable<T> items, Func<T, double> value)
    {
        var sorted = items.Select(value).Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
