using KmsPlugin.LoadGen.Load;
using ScottPlot;

namespace KmsPlugin.LoadGen.Report;

/// <summary>
/// Throughput (top) and p99 (bottom) against callers, KMS v1 left and v2 right, one line per
/// server and <c>:authority</c> (medians over the run's rounds); the x axis is log2 so 1, 4, 16,
/// 64 sit evenly apart.
/// </summary>
internal static class PerformanceChart
{
    public static void Render(IReadOnlyList<LoadResult> rounds, string baseline, string path, string title)
    {
        var load = RoundMedians.Of(rounds);
        var multiplot = new Multiplot();
        multiplot.AddPlots(4);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, 2);
        string[] apis = ["v1", "v2"];
        var targets = load.Select(r => r.Target).Distinct().OrderBy(t => t == baseline ? 1 : 0).ThenBy(t => t, StringComparer.Ordinal).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        for (int column = 0; column < apis.Length; column++)
        {
            var throughput = multiplot.GetPlot(column);
            var p99 = multiplot.GetPlot(2 + column);
            throughput.Title($"KMS {apis[column]}: calls/s (higher is better)");
            p99.Title($"KMS {apis[column]}: p99 latency, ms (lower is better)");
            foreach (var plot in new[] { throughput, p99 })
            {
                plot.XLabel("concurrent callers");
            }

            var levels = load.Select(r => r.Concurrency).Distinct().Order().ToArray();
            foreach (var plot in new[] { throughput, p99 })
            {
                plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                    levels.Select(l => Math.Log2(l)).ToArray(), levels.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
            }

            for (int t = 0; t < targets.Count; t++)
            {
                foreach (var authority in new[] { "socket-path", "percent-encoded", "localhost" })
                {
                    var series = load.Where(r => r.Target == targets[t] && r.Api == apis[column] && r.Authority == authority).OrderBy(r => r.Concurrency).ToList();
                    if (series.Count == 0)
                    {
                        continue;
                    }

                    double[] xs = series.Select(r => Math.Log2(r.Concurrency)).ToArray();
                    AddLine(throughput, xs, series.Select(r => r.CallsPerSecond).ToArray(), $"{targets[t]}, {authority}", palette.GetColor(t), Pattern(authority));
                    AddLine(p99, xs, series.Select(r => r.P99Ms).ToArray(), $"{targets[t]}, {authority}", palette.GetColor(t), Pattern(authority));
                }
            }

            foreach (var plot in new[] { throughput, p99 })
            {
                plot.Axes.SetLimitsY(bottom: 0, top: plot.Axes.GetLimits().Top * 1.1);
                plot.ShowLegend(Alignment.UpperLeft);
            }
        }

        multiplot.GetPlot(0).Title($"{title}\nKMS v1: calls/s (higher is better)");
        multiplot.SavePng(path, 1400, 1000);
    }

    private static LinePattern Pattern(string authority) => authority switch
    {
        "localhost" => LinePattern.Dashed,
        "percent-encoded" => LinePattern.Dotted,
        _ => LinePattern.Solid,
    };

    private static void AddLine(Plot plot, double[] xs, double[] ys, string label, Color color, LinePattern pattern)
    {
        var line = plot.Add.Scatter(xs, ys, color);
        line.LegendText = label;
        line.LineWidth = 2;
        line.MarkerSize = 7;
        line.LinePattern = pattern;
    }
}
