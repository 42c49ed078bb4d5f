using System.Globalization;
using System.Text;

namespace KmsPlugin.Server.Cli;

/// <summary>The samples of a Prometheus text-format page (what a plugin's /metrics serves).</summary>
internal sealed class MetricsPage
{
    private readonly List<MetricSample> _samples;

    private MetricsPage(List<MetricSample> samples)
    {
        _samples = samples;
    }

    public IEnumerable<MetricSample> Samples(string name) => _samples.Where(s => s.Name == name);

    /// <summary>Every well-formed sample line; comments and lines it cannot read are skipped.</summary>
    public static MetricsPage Parse(string text)
    {
        var samples = new List<MetricSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length > 0 && line[0] != '#' && TryParseLine(line, out var sample))
            {
                samples.Add(sample);
            }
        }

        return new MetricsPage(samples);
    }

    private static bool TryParseLine(string line, out MetricSample sample)
    {
        sample = null!;
        var end = line.IndexOfAny(['{', ' ']);
        if (end <= 0)
        {
            return false;
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var position = end;
        if (line[end] == '{' && !TryParseLabels(line, ref position, labels))
        {
            return false;
        }

        var rest = line[position..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length == 0 || !double.TryParse(rest[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        sample = new MetricSample(line[..end], labels, value);
        return true;
    }

    // name="value",... up to the closing brace; values escape \\, \" and \n.
    private static bool TryParseLabels(string line, ref int position, Dictionary<string, string> labels)
    {
        position++;
        while (position < line.Length && line[position] != '}')
        {
            var equals = line.IndexOf("=\"", position, StringComparison.Ordinal);
            if (equals < 0)
            {
                return false;
            }

            var name = line[position..equals].Trim(' ', ',');
            var value = new StringBuilder();
            position = equals + 2;
            for (; position < line.Length && line[position] != '"'; position++)
            {
                if (line[position] == '\\' && position + 1 < line.Length)
                {
                    position++;
                    value.Append(line[position] == 'n' ? '\n' : line[position]);
                }
                else
                {
                    value.Append(line[position]);
                }
            }

            if (position >= line.Length)
            {
                return false;
            }

            labels[name] = value.ToString();
            position++;
            while (position < line.Length && line[position] is ',' or ' ')
            {
                position++;
            }
        }

        position++;
        return position <= line.Length;
    }
}
