using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.AuthorityNormalizer;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

/// <summary>
/// The normalizer holds a header block until END_HEADERS; what it holds is bounded by twice Kestrel's
/// 16 KiB request-header limit (32 KiB of frames). Before, the bound was 64 KiB, held twice.
/// </summary>
public sealed class HeaderBlockBoundTests
{
    private static readonly int Bound = AuthorityNormalizingConnection.MaxHeaderBlockSizeFor(PluginHost.MaxRequestHeadersTotalSize);
    private const int CompressionError = 0x9;
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    [Fact]
    public void The_bound_is_32_KiB_derived_from_kestrels_header_limit()
    {
        Assert.Equal(16 * 1024, PluginHost.MaxRequestHeadersTotalSize);
        Assert.Equal(32 * 1024, Bound);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("/var/run/kmsplugin/kms.sock")]
    public async Task A_block_of_exactly_the_bound_is_handed_to_kestrel_as_it_came(string authority)
    {
        // More than Kestrel's 16 KiB once decoded, so the normalizer leaves the refusal to Kestrel.
        byte[] input = [.. Preface, .. HeadersFramesOfSize(1, authority, Bound)];
        var (output, _, error) = await NormalizerPipes.RunAsync(input, chunk: 1000);
        Assert.Null(error);
        Assert.Equal(input, output);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("/var/run/kmsplugin/kms.sock")]
    public async Task A_block_one_byte_over_the_bound_is_replaced_by_a_compression_error_and_the_rest_dropped(string authority)
    {
        byte[] frames = HeadersFramesOfSize(3, authority, Bound + 1);
        byte[] after = RawHttp2Client.HeadersFrames(5, TestBlockBuilder.Request("localhost"));
        var (output, _, error) = await NormalizerPipes.RunAsync([.. Preface, .. frames, .. after], chunk: 1000);
        Assert.Null(error);

        // HEADERS, END_STREAM | END_HEADERS, stream 3: a dynamic table size update to 4097 (RFC 7541 §5.1, §6.3).
        Assert.Equal([.. Preface, 0, 0, 3, 0x1, 0x5, 0, 0, 0, 3, 0x3F, 0xE2, 0x1F], output);
    }

    [Fact]
    public async Task Over_the_bound_the_plugin_closes_the_connection_under_it_kestrel_refuses_and_small_requests_are_served()
    {
        using var provider = KeystoreRootKeyProvider.CreateDevelopment();
        await using var plugin = await RunningPlugin.StartAsync(provider);

        await using (var over = await RawHttp2Client.ConnectAsync(plugin.SocketPath))
        {
            await over.SendAsync(HeadersFramesOfSize(1, "localhost", Bound + 1));
            Http2Response answer = await ReadOrClosedAsync(over, 1);
            Assert.True(answer is { Status: null, ResetCode: null, GoAwayCode: CompressionError }, $"over the bound: {answer}");
            Assert.True(await over.WaitForCloseAsync(TimeSpan.FromSeconds(30)), "still open after a block over the bound");
        }

        await using (var under = await RawHttp2Client.ConnectAsync(plugin.SocketPath))
        {
            await under.SendAsync(HeadersFramesOfSize(1, "localhost", Bound));
            Http2Response answer = await ReadOrClosedAsync(under, 1);
            Assert.True(answer is { Status: null, ResetCode: null, GoAwayCode: not null }, $"under the bound: {answer}");
        }

        await using var small = await RawHttp2Client.ConnectAsync(plugin.SocketPath);
        Http2Response served = await small.RequestAsync(1, TestBlockBuilder.Request("/var/run/kmsplugin/kms.sock", "small"));
        Assert.True(served.Status is not null || served.ResetCode is not null, $"no answer to a small request: {served}");
        Assert.Null(served.GoAwayCode);
    }

    private static async Task<Http2Response> ReadOrClosedAsync(RawHttp2Client client, int streamId)
    {
        try
        {
            return await client.ReadResponseAsync(streamId);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return new Http2Response(null, "(closed: " + e.GetType().Name + ": " + e.Message + ")", null, null);
        }
    }

    /// <summary>
    /// A request whose HEADERS + CONTINUATION frames take exactly <paramref name="size"/> bytes, in fields
    /// of at most 7,000 bytes (Kestrel's limit per field is 8 KiB, so only its 16 KiB total refuses them).
    /// </summary>
    private static byte[] HeadersFramesOfSize(int streamId, string authority, int size)
    {
        const int FieldSize = 7000;
        int fullFields = (size - 300) / FieldSize;
        for (int filler = size - 300 - (fullFields * FieldSize); filler < size; filler++)
        {
            // '{' has a 15-bit Huffman code, so the encoder keeps the value as it is and the size is predictable.
            var builder = new TestBlockBuilder()
                .Static(":method", "POST").Static(":scheme", "http").Static(":path", "/").Static(":authority", authority);
            for (int i = 0; i < fullFields; i++)
            {
                builder.Static($"x-filler-{i}", new string('{', FieldSize));
            }

            byte[] block = builder.Static("x-filler", new string('{', filler)).ToArray();
            byte[] frames = RawHttp2Client.HeadersFrames(streamId, block);
            if (frames.Length == size)
            {
                return frames;
            }
        }

        throw new InvalidOperationException($"no filler gives {size} bytes of frames");
    }
}
