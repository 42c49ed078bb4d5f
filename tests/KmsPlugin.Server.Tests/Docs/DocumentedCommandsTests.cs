using Xunit.Abstractions;

namespace KmsPlugin.Server.Tests.Docs;

/// <summary>
/// The shell commands in README.md and docs/*.md run as written. The marking rule (also in
/// docs/README.md): every fence whose language is sh, bash, shell, console or zsh carries, after
/// the language, exactly one of
/// <list type="bullet">
/// <item>`runnable`: run by bash (`set -eu`) in a fresh directory laid out like a clone's root,
/// in document order, with `kms-plugin` on PATH; it must exit 0. `retry=N` re-runs it for up to
/// N seconds (for what settles within seconds, such as a keystore reload).</item>
/// <item>`runnable background wait=TARGET`: started like a command in another terminal, and
/// waited for until TARGET accepts connections (a unix socket path, or `tcp:PORT` on 127.0.0.1);
/// killed when the document is done.</item>
/// <item>`not-runnable`: needs a cluster, root, or hours; listed in the test output, never run.</item>
/// </list>
/// A ```` ```text output ```` fence right after a runnable block holds lines its stdout must
/// contain, in that order (`...` skips). An unmarked shell fence fails the test.
/// </summary>
public sealed class DocumentedCommandsTests
{
    private readonly ITestOutputHelper _output;

    public DocumentedCommandsTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string>();
        foreach (var document in DocumentNames())
        {
            data.Add(document);
        }

        return data;
    }

    [Fact]
    public void Every_shell_block_is_marked_runnable_or_not_runnable()
    {
        var blocks = DocumentNames().SelectMany(Blocks).ToList();
        foreach (var block in blocks.Where(b => b.Mark == ShellBlockMark.NotRunnable))
        {
            _output.WriteLine($"not run (marked not-runnable): {block.Where} `{block.FirstLine}`");
        }

        var unmarked = blocks.Where(b => b.Mark == ShellBlockMark.Unmarked).Select(b => $"  {b.Where} `{b.FirstLine}`").ToList();
        Assert.True(unmarked.Count == 0,
            $"{unmarked.Count} shell block(s) are neither `runnable` nor `not-runnable` (see docs/README.md):\n{string.Join('\n', unmarked)}");
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public async Task Runnable_blocks_run_as_written(string document)
    {
        var blocks = Blocks(document).ToList();
        await using var run = new DocumentRun();
        foreach (var block in blocks)
        {
            if (block.Mark is ShellBlockMark.Runnable or ShellBlockMark.Background)
            {
                _output.WriteLine($"run: {block.Where} `{block.FirstLine}`");
                await run.RunAsync(block);
            }
            else
            {
                _output.WriteLine($"not run ({(block.Mark == ShellBlockMark.NotRunnable ? "not-runnable" : "UNMARKED")}): {block.Where} `{block.FirstLine}`");
            }
        }
    }

    [Fact]
    public async Task A_wrong_flag_in_a_runnable_block_fails_with_its_place()
    {
        var blocks = MarkdownShellBlocks.Parse("# t\n\n```sh runnable\necho ok\n```\n\n```sh runnable\nkms-plugin keystore list --keystor ./ks.json\n```\n", "wrong.md");
        await using var run = new DocumentRun();
        await run.RunAsync(blocks[0]);
        var failure = await Assert.ThrowsAsync<DocumentedCommandException>(() => run.RunAsync(blocks[1]));
        Assert.StartsWith("wrong.md:7: `kms-plugin keystore list --keystor ./ks.json` exited", failure.Message);
    }

    [Fact]
    public async Task Documented_output_must_appear_in_order()
    {
        var blocks = MarkdownShellBlocks.Parse("```sh runnable\nprintf 'one\\ntwo\\n'\n```\n```text output\none\n...\ntwo\n```\n```sh runnable\nprintf 'two\\none\\n'\n```\n```text output\none\ntwo\n```\n", "output.md");
        Assert.Equal(["one", "two"], blocks[0].ExpectedOutput);
        await using var run = new DocumentRun();
        await run.RunAsync(blocks[0]);
        var failure = await Assert.ThrowsAsync<DocumentedCommandException>(() => run.RunAsync(blocks[1]));
        Assert.Contains("did not print the documented line \"two\"", failure.Message);
    }

    [Fact]
    public async Task Variables_carry_over_and_background_blocks_serve_later_ones()
    {
        var blocks = MarkdownShellBlocks.Parse(
            "```sh runnable background wait=./p.sock\nkms-plugin serve --dev --socket ./p.sock --health-address 127.0.0.1:0\n```\n"
            + "```sh runnable\nSOCK=./p.sock\n```\n"
            + "```sh runnable\nkms-plugin status --timeout 30s --socket \"$SOCK\"\n```\n```text output\nhealthy\n```\n", "vars.md");
        Assert.Equal([ShellBlockMark.Background, ShellBlockMark.Runnable, ShellBlockMark.Runnable], blocks.Select(b => b.Mark));
        await using var run = new DocumentRun();
        foreach (var block in blocks)
        {
            await run.RunAsync(block);
        }
    }

    private static IEnumerable<string> DocumentNames()
    {
        yield return "README.md";
        var docs = Path.Combine(RepositoryPaths.Root, "docs");
        foreach (var file in Directory.EnumerateFiles(docs, "*.md").Order(StringComparer.Ordinal))
        {
            yield return Path.GetRelativePath(RepositoryPaths.Root, file);
        }
    }

    private static IReadOnlyList<ShellBlock> Blocks(string document) =>
        MarkdownShellBlocks.Read(Path.Combine(RepositoryPaths.Root, document), document);
}
