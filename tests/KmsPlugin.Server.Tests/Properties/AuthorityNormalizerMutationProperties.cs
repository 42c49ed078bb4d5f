using CsCheck;
using KmsPlugin.Server.AuthorityNormalizer;
using KmsPlugin.Server.Tests.AuthorityNormalizer;
using KmsPlugin.Tests.Shared.Properties;
using Microsoft.AspNetCore.Connections;

namespace KmsPlugin.Server.Tests.Properties;

/// <summary>
/// The authority normalizer's frame handling on mutated client byte streams, fed in random pieces:
/// it always finishes, aborts only with <see cref="ConnectionAbortedException"/>, refuses a header
/// block over its bound only by forwarding what came before it unchanged and then the one frame
/// Kestrel answers with GOAWAY(COMPRESSION_ERROR), and when it does none of these nor rewrites it
/// hands the server exactly the bytes the client sent.
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
        var outcomes = new int[4];
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
            else if (IsRefusal(c.Item1.Bytes, output))
            {
                outcomes[3]++;
            }
            else
            {
                Assert.Equal(c.Item1.Bytes, output);
                outcomes[0]++;
            }
        }, Cases, c => $"{c.Item1}, fed in pieces of {c.Item2}");

        // A mutated frame length rarely lands over the bound, so refusals are counted, not required.
        Assert.All(outcomes[..3], count => Assert.True(count > 100, string.Join(", ", outcomes)));
    }

    /// <summary>A prefix of the client's bytes, then only the HEADERS frame whose dynamic table size update exceeds Kestrel's limit.</summary>
    private static bool IsRefusal(byte[] input, byte[] output)
    {
        Span<byte> update = stackalloc byte[HpackInteger.MaxEncodedLength];
        int length = HpackInteger.Encode(4096 + 1, 5, 0x20, update);
        int start = output.Length - Http2FrameHeader.Size - length;
        if (start < 0)
        {
            return false;
        }

        var frame = output.AsSpan(start);
        byte flags = Http2FrameHeader.FlagEndHeaders | Http2FrameHeader.FlagEndStream;
        return frame[0] == 0 && frame[1] == 0 && frame[2] == length && frame[3] == Http2FrameHeader.TypeHeaders && frame[4] == flags
            && frame[Http2FrameHeader.Size..].SequenceEqual(update[..length])
            && input.AsSpan().StartsWith(output.AsSpan(0, start));
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
