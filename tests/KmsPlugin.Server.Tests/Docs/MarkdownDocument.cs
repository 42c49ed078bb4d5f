using System.Text.RegularExpressions;

namespace KmsPlugin.Server.Tests.Docs;

/// <summary>
/// The links and heading anchors of a Markdown file, outside fenced blocks and code spans.
/// Anchors follow GitHub's rule: the heading's text lower-cased, everything but letters, digits,
/// `_`, `-` and spaces dropped, spaces turned into `-`, and `-1`, `-2`, … added to repeats.
/// </summary>
internal static partial class MarkdownDocument
{
    public static IReadOnlyList<MarkdownLink> Links(string markdown)
    {
        var links = new List<MarkdownLink>();
        foreach (var (number, line) in ProseLines(markdown))
        {
            var prose = CodeSpan().Replace(line, "");
            links.AddRange(InlineLink().Matches(prose).Select(m => new MarkdownLink(number, m.Groups["target"].Value)));
            links.AddRange(ReferenceDefinition().Matches(prose).Select(m => new MarkdownLink(number, m.Groups["target"].Value)));
        }

        return links;
    }

    public static IReadOnlySet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, line) in ProseLines(markdown))
        {
            if (Heading().Match(line) is not { Success: true } heading)
            {
                continue;
            }

            var slug = Slug(heading.Groups["text"].Value);
            var repeat = seen.GetValueOrDefault(slug);
            seen[slug] = repeat + 1;
            anchors.Add(repeat == 0 ? slug : $"{slug}-{repeat}");
        }

        return anchors;
    }

    public static string Slug(string headingText)
    {
        var text = LinkText().Replace(headingText, "${text}").Replace("`", "", StringComparison.Ordinal).Replace("*", "", StringComparison.Ordinal);
        var slug = new System.Text.StringBuilder();
        foreach (var c in text.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '_' or '-')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    /// <summary>Every line outside fenced code blocks, with its 1-based number.</summary>
    private static IEnumerable<(int Number, string Line)> ProseLines(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        string? fence = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var opening = Fence().Match(lines[i]);
            if (fence is null && opening.Success)
            {
                fence = opening.Groups["fence"].Value;
            }
            else if (fence is not null)
            {
                var trimmed = lines[i].Trim();
                if (trimmed.Length >= fence.Length && trimmed.All(c => c == fence[0]))
                {
                    fence = null;
                }
            }
            else
            {
                yield return (i + 1, lines[i]);
            }
        }
    }

    [GeneratedRegex(@"^\s*(?<fence>`{3,}|~{3,})")]
    private static partial Regex Fence();

    [GeneratedRegex(@"(`+).+?\1")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?(?<target>[^\s<>()]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^ {0,3}\[[^\]]+\]:\s*<?(?<target>[^\s<>]+)>?")]
    private static partial Regex ReferenceDefinition();

    [GeneratedRegex(@"^ {0,3}#{1,6}\s+(?<text>.*?)(?:\s+#+)?\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"!?\[(?<text>[^\]]*)\]\([^)]*\)")]
    private static partial Regex LinkText();
}
