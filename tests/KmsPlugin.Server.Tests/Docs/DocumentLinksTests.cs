namespace KmsPlugin.Server.Tests.Docs;

/// <summary>
/// Every relative link in README.md, SECURITY.md and docs/*.md reaches a file, and every `#anchor`
/// a heading; the README stays a short entry point, the manual lives in docs/.
/// </summary>
public sealed class DocumentLinksTests : IDisposable
{
    private const int ReadmeLimitBytes = 15 * 1024;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Every_relative_link_resolves_to_a_file_and_every_anchor_to_a_heading()
    {
        var documents = Documents().ToList();
        Assert.Contains("docs/configuration.md", documents);

        var problems = documents.SelectMany(d => RelativeLinks.Problems(RepositoryPaths.Root, d)).ToList();

        Assert.True(problems.Count == 0, $"{problems.Count} broken link(s):\n{string.Join('\n', problems)}");
    }

    [Fact]
    public void The_readme_stays_under_15_KB()
    {
        var size = new FileInfo(Path.Combine(RepositoryPaths.Root, "README.md")).Length;

        Assert.True(size < ReadmeLimitBytes, $"README.md is {size} bytes, the limit is {ReadmeLimitBytes}: move detail into docs/ and link it");
    }

    [Fact]
    public void A_missing_file_a_missing_anchor_and_a_way_out_are_reported_and_code_is_not_read()
    {
        Directory.CreateDirectory(_dir.File("docs"));
        File.WriteAllText(_dir.File("docs/b.md"), "# B\n\n## Same name\n\n## Same name\n\n```sh\n# Not a heading\n```\n");
        File.WriteAllText(_dir.File("docs/a.md"), string.Join('\n',
            "# A",
            "[fine](b.md#same-name-1) [own](#a) [folder](../docs) [web](https://example.org/x.md) [mail](mailto:x@example.org)",
            "[gone](c.md) [no anchor](b.md#not-a-heading) [out](../../elsewhere.md) [code anchor](b.md#not-a-heading-1)",
            "`[in a code span](c.md)`",
            "```text",
            "[in a fence](c.md)",
            "```",
            "[ref]: b.md#b"));

        var problems = RelativeLinks.Problems(_dir.Path, "docs/a.md");

        Assert.Equal(
            [
                "docs/a.md:3: c.md: no such file or folder docs/c.md",
                "docs/a.md:3: b.md#not-a-heading: docs/b.md has no heading with the anchor #not-a-heading",
                "docs/a.md:3: ../../elsewhere.md: points outside the repository",
                "docs/a.md:3: b.md#not-a-heading-1: docs/b.md has no heading with the anchor #not-a-heading-1",
            ],
            problems);
    }

    [Theory]
    [InlineData("Rotation: which alert must be clear before each step", "rotation-which-alert-must-be-clear-before-each-step")]
    [InlineData("`kms-plugin etcd verify`: modes, exit codes and the JSON report", "kms-plugin-etcd-verify-modes-exit-codes-and-the-json-report")]
    [InlineData("Root keys in an HSM (PKCS#11)", "root-keys-in-an-hsm-pkcs11")]
    [InlineData("Without a registry: `scripts/build-image.sh`", "without-a-registry-scriptsbuild-imagesh")]
    [InlineData("1. etcd and a development plugin", "1-etcd-and-a-development-plugin")]
    [InlineData("The [KMS v2](x.md) key_id — again", "the-kms-v2-key_id--again")]
    public void Anchors_follow_GitHubs_slug_rule(string heading, string anchor)
    {
        Assert.Equal(anchor, MarkdownDocument.Slug(heading));
    }

    [Fact]
    public void A_repeated_heading_gets_a_numbered_anchor()
    {
        Assert.Equal(["a", "a-1", "a-2", "b"], MarkdownDocument.Anchors("# A\n## A\n### A\n#### B ##\n").Order(StringComparer.Ordinal));
    }

    private static IEnumerable<string> Documents()
    {
        yield return "README.md";
        yield return "SECURITY.md";
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            yield return Path.GetRelativePath(RepositoryPaths.Root, file);
        }
    }
}
