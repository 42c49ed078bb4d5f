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

    /// <summary>The shortest text <see cref="TryParse"/> reads back as <paramref name="duration"/>: <c>2s</c>, <c>720h</c>.</summary>
    public static string Format(TimeSpan duration) => duration switch
    {
        { Ticks: var t } when t % TimeSpan.TicksPerHour == 0 && t > 0 => $"{t / TimeSpan.TicksPerHour}h",
        { Ticks: var t } when t % TimeSpan.TicksPerMinute == 0 && t > 0 => $"{t / TimeSpan.TicksPerMinute}m",
        { Ticks: var t } when t % TimeSpan.TicksPerSecond == 0 => $"{t / TimeSpan.TicksPerSecond}s",
        _ => $"{duration.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms",
    };
}
