using System.IO.Pipelines;
using KmsPlugin.Server.AuthorityNormalizer;
using Microsoft.AspNetCore.Connections;
using static KmsPlugin.Server.Tests.AuthorityNormalizer.HpackTestData;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

/// <summary>The byte-stream rewriter on in-memory pipes, input fed in small pieces.</summary>
public sealed class AuthorityNormalizingConnectionTests
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    [Fact]
    public async Task NonHttp2InputPassesThroughUntouched()
    {
        byte[] input = Ascii("GET / HTTP/1.1\r\nHost: /var/run/kms.sock\r\n\r\n");
        var (output, rewriting, error) = await NormalizerPipes.RunAsync(input, chunk: 5);
        Assert.Equal(input, output);
        Assert.False(rewriting);
        Assert.Null(error);
    }

    [Fact]
    public async Task ValidConnectionIsForwardedByteForByte()
    {
        byte[] input =
        [
            .. Preface,
            .. RawHttp2Client.Frame(0x4, 0, 0, [0, 0x4, 0, 1, 0, 0]),                        // SETTINGS
            .. RawHttp2Client.HeadersFrames(1, TestBlockBuilder.Request("localhost"), maxFragment: 7, padding: 3, priority: true),
            .. RawHttp2Client.Frame(0x0, 0x1, 3, new byte[40000]),                           // DATA
            .. RawHttp2Client.HeadersFrames(5, new TestBlockBuilder().Incremental(1, "[::1]:8080").ToArray()),
            .. RawHttp2Client.HeadersFrames(7, new TestBlockBuilder().Indexed(62).ToArray()),
        ];

        var (output, rewriting, error) = await NormalizerPipes.RunAsync(input, chunk: 3);
        Assert.Equal(input, output);
        Assert.False(rewriting);
        Assert.Null(error);
    }

    [Fact]
    public async Task LargeRewrittenBlockIsSplitIntoFramesOfAtMost16384Bytes()
    {
        // Large for a frame, but within the 32 KiB the normalizer holds.
        string big = new('x', 20000);
        byte[] block = new TestBlockBuilder().Static(":method", "GET").Static(":authority", "/var/run/kmsplugin/kms.sock").Static("x-big", big).ToArray();
        byte[] input = [.. Preface, .. RawHttp2Client.HeadersFrames(1, block, maxFragment: 16384, priority: true)];

        var (output, rewriting, error) = await NormalizerPipes.RunAsync(input, chunk: 1000);
        Assert.Null(error);
        Assert.True(rewriting);
        Assert.Equal(Preface, output[..Preface.Length]);

        var frames = ReadFrames(output.AsSpan(Preface.Length).ToArray());
        Assert.Equal(2, frames.Count);
        Assert.All(frames, f => Assert.True(f.Header.Length <= 16384));
        Assert.Equal(16384, frames[0].Header.Length);
        Assert.Equal(Http2FrameHeader.TypeHeaders, frames[0].Header.Type);
        Assert.Equal(Http2FrameHeader.FlagEndStream | Http2FrameHeader.FlagPriority, frames[0].Header.Flags);
        Assert.Equal(new byte[] { 0x80, 0, 0, 0, 15 }, frames[0].Payload[..5]);
        Assert.Equal(Http2FrameHeader.TypeContinuation, frames[1].Header.Type);
        Assert.Equal(Http2FrameHeader.FlagEndHeaders, frames[1].Header.Flags);
        Assert.All(frames, f => Assert.Equal(1, f.Header.StreamId));

        byte[] reassembled = [.. frames[0].Payload[5..], .. frames[1].Payload];
        var fields = new List<HeaderField>();
        new HpackDecoder().Decode(reassembled, fields);
        Assert.Equal([(":method", "GET"), (":authority", "localhost"), ("x-big", big)], ToStrings(fields));
    }

    [Fact]
    public async Task RewriteModeDropsSizeUpdatesAndPaddingAndNeverIndexes()
    {
        byte[] block = new TestBlockBuilder().SizeUpdate(100).Indexed(2).Incremental(1, "%2Fkms.sock").Incremental("x-a", "b").ToArray();
        byte[] input = [.. Preface, .. RawHttp2Client.HeadersFrames(3, block, padding: 4)];

        var (output, _, error) = await NormalizerPipes.RunAsync(input, chunk: 2);
        Assert.Null(error);
        var frame = Assert.Single(ReadFrames(output.AsSpan(Preface.Length).ToArray()));
        Assert.Equal(Http2FrameHeader.FlagEndStream | Http2FrameHeader.FlagEndHeaders, frame.Header.Flags);

        var decoder = new HpackDecoder();
        var fields = new List<HeaderField>();
        decoder.Decode(frame.Payload, fields);
        Assert.Equal([(":method", "GET"), (":authority", "localhost"), ("x-a", "b")], ToStrings(fields));
        Assert.Equal(0, decoder.DynamicTable.Count);
    }

    [Fact]
    public async Task RewrittenBlockCarriesRawLiteralsKestrelCopiesInsteadOfHuffmanDecoding()
    {
        // Both values are Huffman-coded on the way in (shorter that way); the rewrite writes them out as they read.
        byte[] block = new TestBlockBuilder().Static(":authority", "/var/run/kmsplugin/kms.sock").Static("content-type", "application/grpc").ToArray();
        Assert.Equal(-1, block.AsSpan().IndexOf("application/grpc"u8));
        byte[] input = [.. Preface, .. RawHttp2Client.HeadersFrames(1, block)];

        var (output, rewriting, error) = await NormalizerPipes.RunAsync(input, chunk: 7);
        Assert.Null(error);
        Assert.True(rewriting);
        var frame = Assert.Single(ReadFrames(output.AsSpan(Preface.Length).ToArray()));
        Assert.True(frame.Payload.AsSpan().IndexOf("application/grpc"u8) > 0);
        Assert.True(frame.Payload.AsSpan().IndexOf("localhost"u8) > 0);
    }

    [Fact]
    public async Task OversizedHeaderBlockIsReplacedByACompressionError()
    {
        byte[] block = new TestBlockBuilder().Static("x-big", new string('{', 70000)).ToArray();
        byte[] input = [.. Preface, .. RawHttp2Client.HeadersFrames(1, block)];

        var (output, _, error) = await NormalizerPipes.RunAsync(input, chunk: 4096);
        Assert.Null(error);
        Assert.Equal([.. Preface, 0, 0, 3, 0x1, 0x5, 0, 0, 0, 1, 0x3F, 0xE2, 0x1F], output);
    }

    [Fact]
    public async Task HpackErrorInPassThroughHandsTheOriginalBytesToTheServer()
    {
        byte[] input =
        [
            .. Preface,
            .. RawHttp2Client.HeadersFrames(1, [0x80]),                          // index 0
            .. RawHttp2Client.HeadersFrames(3, TestBlockBuilder.Request("/a/path")),
        ];

        var (output, rewriting, error) = await NormalizerPipes.RunAsync(input, chunk: 8);
        Assert.Equal(input, output);
        Assert.False(rewriting);
        Assert.Null(error);
    }

    [Fact]
    public async Task MalformedPaddingInPassThroughHandsTheOriginalBytesToTheServer()
    {
        byte[] input =
        [
            .. Preface,
            .. RawHttp2Client.Frame(Http2FrameHeader.TypeHeaders, Http2FrameHeader.FlagPadded | Http2FrameHeader.FlagEndHeaders, 1, [9, 0x82]),
            .. RawHttp2Client.HeadersFrames(3, TestBlockBuilder.Request("/a/path")),
        ];

        var (output, rewriting, error) = await NormalizerPipes.RunAsync(input, chunk: 64);
        Assert.Equal(input, output);
        Assert.False(rewriting);
        Assert.Null(error);
    }

    [Fact]
    public async Task InterleavedFrameInRewriteModeAbortsTheConnection()
    {
        byte[] input =
        [
            .. Preface,
            .. RawHttp2Client.HeadersFrames(1, TestBlockBuilder.Request("/a/path")),
            .. RawHttp2Client.Frame(Http2FrameHeader.TypeHeaders, Http2FrameHeader.FlagEndStream, 3, [0x82]),
            .. RawHttp2Client.Frame(0x0, 0, 1, [1, 2, 3]),
        ];

        var (_, rewriting, error) = await NormalizerPipes.RunAsync(input, chunk: 64);
        Assert.True(rewriting);
        Assert.IsType<ConnectionAbortedException>(error);
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("localhost:8080", true)]
    [InlineData("kms-plugin.kube-system.svc", true)]
    [InlineData("a!$&'()-._~z", true)]
    [InlineData("127.0.0.1:443", true)]
    [InlineData("[::1]", true)]
    [InlineData("[fe80::1%eth0]", false)]
    [InlineData("[::1]:443", true)]
    [InlineData("", true)]
    [InlineData("/var/run/kmsplugin/kms.sock", false)]
    [InlineData("%2Fvar%2Frun%2Fkmsplugin%2Fkms.sock", false)]
    [InlineData("@kms", false)]
    [InlineData("local host", false)]
    [InlineData("localhost:", false)]
    [InlineData("localhost:80a", false)]
    [InlineData(":80", false)]
    [InlineData("[::]", false)]
    [InlineData("[::1", false)]
    [InlineData("[::1]x", false)]
    [InlineData("host*", false)]
    public void AuthorityValidatorMirrorsKestrel(string authority, bool valid) =>
        Assert.Equal(valid, AuthorityValidator.IsValid(Ascii(authority)));

    private static List<(Http2FrameHeader Header, byte[] Payload)> ReadFrames(byte[] bytes)
    {
        var frames = new List<(Http2FrameHeader, byte[])>();
        for (int offset = 0; offset < bytes.Length;)
        {
            var header = Http2FrameHeader.Read(bytes.AsSpan(offset));
            offset += Http2FrameHeader.Size;
            frames.Add((header, bytes.AsSpan(offset, header.Length).ToArray()));
            offset += header.Length;
        }

        return frames;
    }
}
