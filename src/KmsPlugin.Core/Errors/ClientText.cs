using System.Globalization;

namespace KmsPlugin.Core.Errors;

/// <summary>
/// A string a client sent, made safe for one log line or error message: at most 80 characters,
/// control, format (bidi overrides) and line/paragraph separator characters each shown as '?',
/// so a newline in a request field can never start a forged log line.
/// </summary>
internal static class ClientText
{
    private const int MaxLength = 80;

    public static string Printable(string value)
    {
        var clipped = value.Length > MaxLength ? value[..MaxLength] : value;
        var printable = string.Create(clipped.Length, clipped, static (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                span[i] = IsUnsafe(text[i]) ? '?' : text[i];
            }
        });
        return value.Length > MaxLength ? printable + "…" : printable;
    }

    private static bool IsUnsafe(char c) => char.GetUnicodeCategory(c) is
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
        or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned;
}
