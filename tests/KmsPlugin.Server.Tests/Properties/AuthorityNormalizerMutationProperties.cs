using CsCheck;
using KmsPlugin.Server.Http2;
using KmsPlugin.Server.Tests.Http2;
using KmsPlugin.Tests.Shared.Properties;
using Microsoft.AspNetCore.Connections;

namespace KmsPlugin.Server.Tests.Properties;

/// <summary>
/// The authority normalizer's frame handling on mutated client byte streams, fed in random pieces:
/// it always finishes, aborts only with <see cref="ConnectionAbortedException"/>, and when it neither
/// aborts nor rewrites it hands the server exactly the bytes the client sent.
/// </summary>
public sealed class AuthorityNormalizerMutationProperties
{
    private const int Cases = 100_000;
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    [Fact]
    public void Mutated_client_streams_are_forwarded_unchanged_rewritten_or_aborted_cleanly()
    {
        byte[] settings = RawHttp2Client.Frame(0x4, 0, 0, [0, 0x4, 0, 1, 0, 0]);
        var streams = new[]
        {
            Concat(Preface, settings, RawHttp2Client.HeadersFrames(1, TestBlockBuilder.Request("localhost"), maxFragment: 7, padding: 3, priority: true),
                RawHttp2Client.Frame(0x0, 0x1, 1, new byte[50])),
            Concat(Preface, settings, RawHttp2Client.HeadersFrames(1, TestBlockBuilder.Request("/var/run/kmsplugin/kms.sock")),
                RawHttp2Client.HeadersFrames(3, new TestBlockBuilder().Incremental(1, "[::1]:8080").Indexed(62).ToArray())),
        };
        var outcomes = new int[3];
        var cases = Gen.Select(ByteMutations.Of(streams), Gen.Int[1, 64]);

        FixedSeedProperty.Check(cases, c =>
        {
            var (output, rewriting, error) = NormalizerPipes.RunAsync(c.Item1.Bytes, c.Item2).GetAwaiter().GetResult();
            if (error is not null)
            {
                Assert.IsType<ConnectionAbortedException>(error);
                outcomes[2]++;
            }
            else if (rewriting)
            {
                outcomes[1]++;
            }
            else
            {
                Assert.Equal(c.Item1.Bytes, output);
                outcomes[0]++;
            }
        }, Cases, c => $"{c.Item1}, fed in pieces of {c.Item2}");

        Assert.All(outcomes, count => Assert.True(count > 100, string.Join(", ", outcomes)));
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
