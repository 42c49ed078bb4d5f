using System.Globalization;

namespace KmsPlugin.Server.Cli;

/// <summary>Durations written as kube-apiserver writes them: <c>500ms</c>, <c>10s</c>, <c>5m</c>, <c>24h</c>.</summary>
internal static class DurationText
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal)
            ? (text[..^2], "ms")
            : text.Length > 1 ? (text[..^1], text[^1..]) : (text, "");
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        TimeSpan? parsed = unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            "m" => TimeSpan.FromMinutes(value),
            "h" => TimeSpan.FromHours(value),
            _ => null,
        };
        if (parsed is null)
        {
            return false;
        }

        duration = parsed.Value;
        return true;
    }
}
