using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.Configuration;

/// <summary>
/// One serve setting as found in one source, still as text. <see cref="Origin"/> names where it came
/// from (a flag, a variable, <c>file:line: key</c>, or "default") and starts every problem reported about it.
/// </summary>
internal sealed record ConfigValue(string? Text, IReadOnlyList<string> Items, string Origin)
{
    public static ConfigValue Scalar(string? text, string origin) => new(text, [], origin);

    public static ConfigValue List(IReadOnlyList<string> items, string origin) => new(null, items, origin);

    public bool IsSet => Text is not null || Items.Count > 0;

    /// <summary>The value as an operator would write it, for logs and comparisons (never a secret: the file holds none).</summary>
    public string Display => Text ?? string.Join(",", Items);

    public bool SameValueAs(ConfigValue other) =>
        Text == other.Text && Items.SequenceEqual(other.Items, StringComparer.Ordinal);
}
