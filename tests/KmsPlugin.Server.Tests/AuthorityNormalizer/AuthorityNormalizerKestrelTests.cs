using static KmsPlugin.Server.Tests.AuthorityNormalizer.TestBlockBuilder;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

/// <summary>Raw HTTP/2 against a real Kestrel on a unix socket, with and without the normalizer.</summary>
public sealed class AuthorityNormalizerKestrelTests
{
    private const int ProtocolError = 0x1;

    [Fact]
    public async Task WithoutNormalizer_KestrelResetsPathAuthoritiesWithProtocolError()
    {
        await using var server = await KestrelUnixSocketServer.StartAsync(normalizeAuthority: false);
        await using var client = await RawHttp2Client.ConnectAsync(server.SocketPath);

        Http2Response raw = await client.RequestAsync(1, Request(server.SocketPath));
        Http2Response encoded = await client.RequestAsync(3, Request(Uri.EscapeDataString(server.SocketPath)));
        Http2Response localhost = await client.RequestAsync(5, Request("localhost"));

        Assert.Equal(ProtocolError, raw.ResetCode);
        Assert.Null(raw.Status);
        Assert.Equal(ProtocolError, encoded.ResetCode);
        Assert.Equal(200, localhost.Status);
        Assert.Equal("localhost|", localhost.Body);
    }

    [Fact]
    public async Task RewritesRawAndPercentEncodedSocketPathsAndKeepsLocalhost()
    {
        await using var server = await KestrelUnixSocketServer.StartAsync(normalizeAuthority: true);
        await using var client = await RawHttp2Client.ConnectAsync(server.SocketPath);

        string encodedPath = Uri.EscapeDataString(server.SocketPath);
        Assert.Contains("%2F", encodedPath, StringComparison.Ordinal);

        AssertOk("localhost|a", await client.RequestAsync(1, Request(server.SocketPath, "a")));
        AssertOk("localhost|b", await client.RequestAsync(3, Request(encodedPath, "b")));
        AssertOk("localhost|c", await client.RequestAsync(5, Request("localhost", "c")));
        AssertOk("example.test:8080|d", await client.RequestAsync(7, Request("example.test:8080", "d")));
    }

    [Fact]
    public async Task ValidAuthoritiesPassThroughUnchanged()
    {
        await using var server = await KestrelUnixSocketServer.StartAsync(normalizeAuthority: true);
        await using var client = await RawHttp2Client.ConnectAsync(server.SocketPath);

        AssertOk("localhost|a", await client.RequestAsync(1, Request("localhost", "a")));
        AssertOk("[::1]:443|b", await client.RequestAsync(3, Request("[::1]:443", "b")));
        AssertOk("|c", await client.RequestAsync(5, new TestBlockBuilder()
            .Static(":method", "GET").Static(":scheme", "http").Static(":path", "/").Static("host", "").Static("x-test", "c").ToArray()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HeaderBlockSplitAcrossContinuationFrames(bool pathAuthority)
    {
        await using var server = await KestrelUnixSocketServer.StartAsync(normalizeAuthority: true);
        await using var client = await RawHttp2Client.ConnectAsync(server.SocketPath);
        string authority = pathAuthority ? server.SocketPath : "localhost";
        string value = new('v', 300);

        // HEADERS + 3 CONTINUATION of at most 100 bytes, then one padded with priority fields.
        AssertOk($"localhost|{value}", await client.RequestAsync(1, Request(authority, value), maxFragment: 100));
        AssertOk("localhost|p", await client.RequestAsync(3, Request(authority, "p"), maxFragment: 10, padding: 7, priority: true));
    }

    [Fact]
    public async Task ClientDynamicTableInPassThroughMode()
    {
        await using var server = await KestrelUnixSocketServer.StartAsync(normalizeAuthority: true);
        await using var client = await RawHttp2Client.ConnectAsync(server.SocketPath);

        // Request 1 adds :authority=localhost, then x-test=one: table [62 x-test=one, 63 :authority=localhost].
        byte[] first = Start().Incremental(1, "localhost").Incremental("x-test", "one").ToArray();
        byte[] next = Start().Indexed(63).Indexed(62).ToArray();

        AssertOk("localhost|one", await client.RequestAsync(1, first));
        AssertOk("localhost|one", await client.RequestAsync(3, next));
        AssertOk("localhost|one", await client.RequestAsync(5, next));
    }

    [Fact]
    public async Task ClientDynamicTableAcrossTheSwitchToRewriteMode()
    {
        await using var server = await KestrelUnixSocketServer.StartAsync(normalizeAuthority: true);
        await using var client = await RawHttp2Client.ConnectAsync(server.SocketPath);
        string encodedPath = Uri.EscapeDataString(server.SocketPath);

        // Pass-through: table [62 x-test=one, 63 :authority=localhost], in Kestrel's table too.
        AssertOk("localhost|one", await client.RequestAsync(1, Start().Incremental(1, "localhost").Incremental("x-test", "one").ToArray()));

        // Switch: adds the path -> [62 path, 63 x-test=one, 64 localhost]. Kestrel gets no indexing instruction.
        AssertOk("localhost|one", await client.RequestAsync(3, Start().Incremental(1, server.SocketPath).Indexed(63).ToArray()));

        // Rewrite: references to an entry Kestrel's table lacks (62) or holds at another index (63, 64).
        AssertOk("localhost|one", await client.RequestAsync(5, Start().Indexed(62).Indexed(63).ToArray()));
        AssertOk("localhost|one", await client.RequestAsync(7, Start().Indexed(64).Indexed(63).ToArray()));

        // Rewrite: size updates that empty the client's table, new entries, then references to them.
        AssertOk("localhost|two", await client.RequestAsync(9, new TestBlockBuilder().SizeUpdate(0).SizeUpdate(4096)
            .Indexed(2).Indexed(6).Indexed(4).Incremental(1, encodedPath).Incremental("x-test", "two").ToArray()));
        AssertOk("localhost|two", await client.RequestAsync(11, Start().Indexed(63).Indexed(62).ToArray()));

        // Rewrite: a valid authority stays as it is.
        AssertOk("example.test|three", await client.RequestAsync(13, Start().Incremental(1, "example.test").Incremental("x-test", "three").ToArray()));
    }

    /// <summary>GET http / (static indexes; pseudo-headers must precede the rest).</summary>
    private static TestBlockBuilder Start() => new TestBlockBuilder().Indexed(2).Indexed(6).Indexed(4);

    private static void AssertOk(string expectedBody, Http2Response response)
    {
        Assert.Null(response.ResetCode);
        Assert.Null(response.GoAwayCode);
        Assert.Equal(200, response.Status);
        Assert.Equal(expectedBody, response.Body);
    }
}
