using System.Globalization;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>Reads samples out of the plugin's /metrics page (Prometheus text format).</summary>
internal static class PrometheusText
{
    public static async Task<string> ScrapeAsync(int healthPort)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync($"http://127.0.0.1:{healthPort}/metrics");
    }

    /// <summary>The samples of <paramref name="metric"/>: full series name (with labels) → value.</summary>
    public static IReadOnlyDictionary<string, double> Samples(string text, string metric) =>
        text.Split('\n')
            .Where(line => line.StartsWith(metric + " ", StringComparison.Ordinal) || line.StartsWith(metric + "{", StringComparison.Ordinal))
            .Select(line => line.Trim())
            .ToDictionary(
                line => line[..line.LastIndexOf(' ')],
                line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>The one unlabelled sample of <paramref name="metric"/>; fails when the page lacks it.</summary>
    public static double Value(string text, string metric) =>
        Samples(text, metric).TryGetValue(metric, out var value)
            ? value
            : throw new InvalidOperationException($"/metrics has no sample {metric}:\n{text}");
}
