namespace KmsPlugin.Server.Tests.Docs;

/// <summary>
/// Checks a Markdown file's relative links as GitHub resolves them: from the file's folder (or the
/// repository's root for `/…`), to a file or folder inside the repository, and for `#anchor` to a
/// heading of the Markdown file it names (or of the file itself).
/// </summary>
internal static class RelativeLinks
{
    /// <summary>One line per broken link: `document:line: target: what is wrong`.</summary>
    public static IReadOnlyList<string> Problems(string root, string document)
    {
        var path = Path.Combine(root, document);
        var problems = new List<string>();
        foreach (var link in MarkdownDocument.Links(File.ReadAllText(path)))
        {
            if (Problem(root, path, link.Target) is { } problem)
            {
                problems.Add($"{document}:{link.Line}: {link.Target}: {problem}");
            }
        }

        return problems;
    }

    private static string? Problem(string root, string document, string target)
    {
        if (IsAbsoluteUrl(target))
        {
            return null;
        }

        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var file = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
        var anchor = hash < 0 ? null : Uri.UnescapeDataString(target[(hash + 1)..]);
        var resolved = file.Length == 0 ? document
            : Path.GetFullPath(file.StartsWith('/') ? Path.Combine(root, file.TrimStart('/')) : Path.Combine(Path.GetDirectoryName(document)!, file));
        var rootPrefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;
        if (!resolved.StartsWith(rootPrefix, StringComparison.Ordinal))
        {
            return "points outside the repository";
        }

        if (!File.Exists(resolved) && !Directory.Exists(resolved))
        {
            return $"no such file or folder {Path.GetRelativePath(root, resolved)}";
        }

        if (anchor is null)
        {
            return null;
        }

        if (!resolved.EndsWith(".md", StringComparison.Ordinal) || !File.Exists(resolved))
        {
            return "an anchor on something other than a Markdown file cannot be checked";
        }

        return MarkdownDocument.Anchors(File.ReadAllText(resolved)).Contains(anchor) ? null
            : $"{Path.GetRelativePath(root, resolved)} has no heading with the anchor #{anchor}";
    }

    private static bool IsAbsoluteUrl(string target)
    {
        var colon = target.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && char.IsAsciiLetter(target[0]) && target[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.');
    }
}
