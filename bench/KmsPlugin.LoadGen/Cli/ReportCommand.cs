using System.CommandLine;
using KmsPlugin.LoadGen.Report;

namespace KmsPlugin.LoadGen.Cli;

/// <summary><c>report</c>: the Markdown tables (ratios to the baseline) and the PNG chart of a results directory.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var results = new Option<string>("--results") { Description = "Directory of JSON files written by run and coldstart", Required = true };
        var baseline = new Option<string>("--baseline") { Description = "Target every other target is compared with", DefaultValueFactory = _ => "baseline" };
        var chart = new Option<string?>("--chart") { Description = "Write the throughput/p99 chart to this PNG" };
        var title = new Option<string>("--title") { Description = "Chart title", DefaultValueFactory = _ => "kms-plugin vs grpc-go baseline over a unix socket" };
        var chartMix = new Option<string>("--chart-mix") { Description = "Encrypt:Decrypt mix the chart draws (all rows when none has it)", DefaultValueFactory = _ => "1:0" };
        var command = new Command("report", "Print Markdown tables with ratios to the baseline and render the chart") { results, baseline, chart, chartMix, title };
        command.SetAction(async parse =>
        {
            var set = ResultSet.ReadDirectory(parse.GetValue(results)!);
            if (set.Load.Count == 0 && set.ColdStart.Count == 0)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"no results in {parse.GetValue(results)}");
                return 1;
            }

            await parse.InvocationConfiguration.Output.WriteAsync(MarkdownTables.Render(set, parse.GetValue(baseline)!));
            if (parse.GetValue(chart) is { } png && set.Load.Count > 0)
            {
                var drawn = set.Load.Where(r => r.Mix == parse.GetValue(chartMix)).ToList();
                PerformanceChart.Render(drawn.Count > 0 ? drawn : set.Load, parse.GetValue(baseline)!, png, parse.GetValue(title)!);
                await parse.InvocationConfiguration.Output.WriteLineAsync($"chart: {png}");
            }

            return 0;
        });
        return command;
    }
}
