using System.Globalization;
using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.RootKeys.Faults;

/// <summary>
/// The faults injected into wrap and unwrap. Text form, one setting per line or word:
/// <c>wrap=fail</c>, <c>unwrap=slow:500ms</c>, <c>all=fail-every:3</c>, <c>unwrap=hang</c>,
/// <c>all=off</c>; <c>#</c> starts a comment, and an empty text means no fault.
/// </summary>
internal sealed record RootKeyFaults(RootKeyFault Wrap, RootKeyFault Unwrap)
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromHours(1);

    public static RootKeyFaults None { get; } = new(RootKeyFault.None, RootKeyFault.None);

    public bool Any => Wrap.Mode != RootKeyFaultMode.None || Unwrap.Mode != RootKeyFaultMode.None;

    /// <summary>Throws <see cref="FormatException"/> naming the first setting it cannot read.</summary>
    public static RootKeyFaults Parse(string text)
    {
        var faults = None;
        foreach (var rawLine in text.Split('\n'))
        {
            var hash = rawLine.IndexOf('#', StringComparison.Ordinal);
            var line = hash >= 0 ? rawLine[..hash] : rawLine;
            foreach (var setting in line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = setting.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw new FormatException($"\"{setting}\": expected wrap=, unwrap= or all= followed by off, fail, hang, slow:<duration> or fail-every:<k>");
                }

                var fault = ParseFault(setting[(equals + 1)..]) ?? throw new FormatException($"\"{setting}\": expected off, fail, hang, slow:<duration> (e.g. 500ms) or fail-every:<k> after '='");
                faults = setting[..equals] switch
                {
                    "wrap" => faults with { Wrap = fault },
                    "unwrap" => faults with { Unwrap = fault },
                    "all" => new RootKeyFaults(fault, fault),
                    var operation => throw new FormatException($"\"{setting}\": unknown operation \"{operation}\" (wrap, unwrap or all)"),
                };
            }
        }

        return faults;
    }

    public override string ToString() => $"wrap={Wrap} unwrap={Unwrap}";

    private static RootKeyFault? ParseFault(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var (name, argument) = colon < 0 ? (text, null) : (text[..colon], text[(colon + 1)..]);
        return (name, argument) switch
        {
            ("off", null) => RootKeyFault.None,
            ("fail", null) => RootKeyFault.Fail,
            ("hang", null) => RootKeyFault.Hang,
            ("slow", { } delay) when DurationText.TryParse(delay, out var wait) && wait > TimeSpan.Zero && wait <= MaxDelay => RootKeyFault.Slow(wait),
            ("fail-every", { } every) when int.TryParse(every, NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k >= 1 => RootKeyFault.FailEvery(k),
            _ => null,
        };
    }
}
