using System.Text.RegularExpressions;

namespace KmsPlugin.Server.Tests.Docs;

/// <summary>Reads the fenced shell blocks of a Markdown file and their marks from the info string.</summary>
internal static partial class MarkdownShellBlocks
{
    private static readonly HashSet<string> ShellLanguages = new(StringComparer.Ordinal) { "sh", "bash", "shell", "console", "zsh" };

    public static IReadOnlyList<ShellBlock> Read(string path, string document) => Parse(File.ReadAllText(path), document);

    public static IReadOnlyList<ShellBlock> Parse(string markdown, string document)
    {
        var fences = Fences(markdown.Replace("\r\n", "\n").Split('\n')).ToList();
        var blocks = new List<ShellBlock>();
        for (var i = 0; i < fences.Count; i++)
        {
            var (line, words, body) = fences[i];
            if (words.Length == 0 || !ShellLanguages.Contains(words[0]))
            {
                continue;
            }

            var expected = i + 1 < fences.Count && fences[i + 1].Words is ["text", "output", ..]
                ? fences[i + 1].Body.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l != "...").ToList()
                : [];
            blocks.Add(new ShellBlock(document, line, MarkOf(words), body, Value(words, "wait"), Value(words, "retry") is { } s ? TimeSpan.FromSeconds(int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)) : null, expected));
        }

        return blocks;
    }

    private static ShellBlockMark MarkOf(string[] words) =>
        words.Contains("not-runnable") ? ShellBlockMark.NotRunnable
        : words.Contains("runnable") && words.Contains("background") ? ShellBlockMark.Background
        : words.Contains("runnable") ? ShellBlockMark.Runnable
        : ShellBlockMark.Unmarked;

    private static string? Value(string[] words, string name) =>
        words.FirstOrDefault(w => w.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];

    /// <summary>Every fenced block: the line of its opening fence (1-based), the words of its info string, its text.</summary>
    private static IEnumerable<(int Line, string[] Words, string Body)> Fences(string[] lines)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            var open = Opening().Match(lines[i]);
            if (!open.Success)
            {
                continue;
            }

            var indent = open.Groups["indent"].Length;
            var fence = open.Groups["fence"].Value;
            var words = open.Groups["info"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var body = new List<string>();
            var start = i;
            for (i++; i < lines.Length && !IsClosing(lines[i], fence); i++)
            {
                body.Add(lines[i].Length >= indent && lines[i][..indent].Trim().Length == 0 ? lines[i][indent..] : lines[i].TrimStart());
            }

            yield return (start + 1, words, string.Join('\n', body));
        }
    }

    private static bool IsClosing(string line, string fence)
    {
        var trimmed = line.Trim();
        return trimmed.Length >= fence.Length && trimmed.All(c => c == fence[0]);
    }

    [GeneratedRegex(@"^(?<indent> {0,3}|\s*)(?<fence>`{3,}|~{3,})(?<info>[^`]*)$")]
    private static partial Regex Opening();
}
