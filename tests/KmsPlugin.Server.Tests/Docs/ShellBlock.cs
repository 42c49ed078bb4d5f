namespace KmsPlugin.Server.Tests.Docs;

/// <summary>How a shell fence in the docs is marked (see DocumentedCommandsTests for the rule).</summary>
internal enum ShellBlockMark
{
    Unmarked,
    Runnable,
    Background,
    NotRunnable,
}

/// <summary>
/// One shell fence of a Markdown document: its marks, its text, and the `text output` fence right
/// after it, if any, whose lines its stdout must contain in order.
/// </summary>
internal sealed record ShellBlock(string Document, int Line, ShellBlockMark Mark, string Script, string? Wait, TimeSpan? Retry, IReadOnlyList<string> ExpectedOutput)
{
    public string Where => $"{Document}:{Line}";

    public string FirstLine => Script.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";
}
