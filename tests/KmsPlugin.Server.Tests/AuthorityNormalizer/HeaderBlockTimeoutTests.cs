using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.AuthorityNormalizer;
using KmsPlugin.Server.Tests.Support;
using static KmsPlugin.Server.Tests.AuthorityNormalizer.TestBlockBuilder;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

/// <summary>
/// The authority normalizer holds a header block until END_HEADERS, so Kestrel's request-headers
/// timeout never sees it. The normalizer closes a connection whose block stays incomplete for 5 s
/// (before, such a connection stayed open, holding up to 128 KiB, for the 60 s idle time).
/// </summary>
public sealed class HeaderBlockTimeoutTests
{
    [Theory]
    [InlineData("/var/run/kmsplugin/kms.sock")]
    [InlineData("localhost")]
    public async Task A_header_block_without_end_headers_closes_the_connection_and_others_keep_working(string authority)
    {
        using var provider = KeystoreRootKeyProvider.CreateDevelopment();
        await using var plugin = await RunningPlugin.StartAsync(provider);
        await using var stalled = await RawHttp2Client.ConnectAsync(plugin.SocketPath);
        await using var idle = await RawHttp2Client.ConnectAsync(plugin.SocketPath);

        var block = Request(authority, "stalled");
        await stalled.SendAsync(RawHttp2Client.Frame(Http2FrameHeader.TypeHeaders, Http2FrameHeader.FlagEndStream, 1, block[..(block.Length / 2)]));

        Assert.True(await stalled.WaitForCloseAsync(TimeSpan.FromSeconds(30)), "the connection with an incomplete header block is still open after 30 s");

        // A connection that holds nothing is not touched, and goes on serving.
        var answer = await idle.RequestAsync(1, Request("localhost", "idle"));
        Assert.True(answer.Status is not null || answer.ResetCode is not null, $"no answer on the idle connection: {answer}");
        Assert.Null(answer.GoAwayCode);
    }

    [Fact]
    public async Task A_frame_header_promising_a_headers_payload_that_never_comes_closes_the_connection()
    {
        using var provider = KeystoreRootKeyProvider.CreateDevelopment();
        await using var plugin = await RunningPlugin.StartAsync(provider);
        await using var stalled = await RawHttp2Client.ConnectAsync(plugin.SocketPath);

        var frame = RawHttp2Client.Frame(Http2FrameHeader.TypeHeaders, (byte)(Http2FrameHeader.FlagEndStream | Http2FrameHeader.FlagEndHeaders), 1, new byte[4000]);
        await stalled.SendAsync(frame[..100]);

        Assert.True(await stalled.WaitForCloseAsync(TimeSpan.FromSeconds(30)), "the connection with a partial HEADERS frame is still open after 30 s");
    }

    [Fact]
    public void The_timeout_is_kestrels_request_headers_timeout()
    {
        Assert.Equal(new global::KmsPlugin.Server.Hosting.PluginHostOptions { SocketPath = "x" }.RequestHeadersTimeout, AuthorityNormalizingConnection.DefaultHeaderBlockTimeout);
    }
}
