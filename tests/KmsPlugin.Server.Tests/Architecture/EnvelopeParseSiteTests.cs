using System.Text.RegularExpressions;

namespace KmsPlugin.Server.Tests.Architecture;

/// <summary>
/// <c>EnvelopeEncryptor.EnvelopesParsed</c> counts the one <c>ParsedEnvelope</c> a decrypt makes; it
/// cannot see a header parsed somewhere else. This scan can: in <c>src/</c> the header is parsed only
/// by <c>ParsedEnvelope</c>, which only <c>EnvelopeEncryptor.DecryptAsync</c> makes, and the
/// off-path <c>ReadRootKeyId</c> is not used by the gRPC services.
/// </summary>
public sealed partial class EnvelopeParseSiteTests
{
    [Fact]
    public void The_envelope_header_is_parsed_in_one_place_on_the_request_path()
    {
        var sites = SourceLines().Where(line => ParseCall().IsMatch(line.Text)).Select(line => $"{line.File}: {line.Text.Trim()}").ToList();

        Assert.Equal(
            [
                "src/KmsPlugin.Core/Envelope/EnvelopeEncryptor.cs: Encoding.ASCII.GetString(EnvelopeFormat.Parse(envelope).KeyId);",
                "src/KmsPlugin.Core/Envelope/EnvelopeEncryptor.cs: var parsed = new ParsedEnvelope(envelope);",
                "src/KmsPlugin.Core/Envelope/ParsedEnvelope.cs: _layout = EnvelopeFormat.Measure(bytes.Span);",
            ],
            sites.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(SourceLines(), line => line.File.StartsWith("src/KmsPlugin.Server/Grpc/", StringComparison.Ordinal)
            && line.Text.Contains("ReadRootKeyId", StringComparison.Ordinal));
    }

    private static IEnumerable<(string File, string Text)> SourceLines()
    {
        foreach (var path in Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(RepositoryPaths.Root, path).Replace('\\', '/');
            if (relative.Contains("/obj/", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var text in File.ReadLines(path).Where(t => !t.TrimStart().StartsWith("//", StringComparison.Ordinal)))
            {
                yield return (relative, text);
            }
        }
    }

    [GeneratedRegex(@"EnvelopeFormat\.(Parse|Measure)\(|new ParsedEnvelope\(")]
    private static partial Regex ParseCall();
}
