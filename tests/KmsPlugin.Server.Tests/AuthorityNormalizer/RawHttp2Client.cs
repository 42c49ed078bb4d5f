using System.Net.Sockets;
using System.Text;
using KmsPlugin.Server.AuthorityNormalizer;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

internal sealed record Http2Response(int? Status, string Body, int? ResetCode, int? GoAwayCode);

/// <summary>Speaks raw HTTP/2 (prior knowledge) over a unix socket: just enough to send requests and read answers.</summary>
internal sealed class RawHttp2Client : IAsyncDisposable
{
    private const byte TypeData = 0x0;
    private const byte TypeRstStream = 0x3;
    private const byte TypeSettings = 0x4;
    private const byte TypePing = 0x6;
    private const byte TypeGoAway = 0x7;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly HpackDecoder _responseDecoder = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(20));

    private RawHttp2Client(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<RawHttp2Client> ConnectAsync(string socketPath)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        var client = new RawHttp2Client(socket);
        await client.SendAsync([.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, .. Frame(TypeSettings, 0, 0, [])]);
        return client;
    }

    public static byte[] Frame(byte type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[Http2FrameHeader.Size + payload.Length];
        new Http2FrameHeader(payload.Length, type, flags, streamId).Write(frame);
        payload.CopyTo(frame.AsSpan(Http2FrameHeader.Size));
        return frame;
    }

    /// <summary>
    /// HEADERS with END_STREAM, split into HEADERS + CONTINUATION frames of at most
    /// <paramref name="maxFragment"/> bytes; optionally padded and with priority fields.
    /// </summary>
    public static byte[] HeadersFrames(int streamId, byte[] block, int maxFragment = 16384, int padding = -1, bool priority = false)
    {
        var frames = new List<byte>();
        int first = Math.Min(block.Length, maxFragment);
        byte flags = Http2FrameHeader.FlagEndStream;
        var payload = new List<byte>();
        if (padding >= 0)
        {
            flags |= Http2FrameHeader.FlagPadded;
            payload.Add((byte)padding);
        }

        if (priority)
        {
            flags |= Http2FrameHeader.FlagPriority;
            payload.AddRange([0x80, 0, 0, 0, 15]); // exclusive, depends on stream 0, weight 16
        }

        payload.AddRange(block.AsSpan(0, first));
        payload.AddRange(new byte[Math.Max(0, padding)]);
        if (first == block.Length)
        {
            flags |= Http2FrameHeader.FlagEndHeaders;
        }

        frames.AddRange(Frame(Http2FrameHeader.TypeHeaders, flags, streamId, payload.ToArray()));
        for (int offset = first; offset < block.Length; offset += maxFragment)
        {
            int length = Math.Min(maxFragment, block.Length - offset);
            byte continuationFlags = offset + length == block.Length ? Http2FrameHeader.FlagEndHeaders : (byte)0;
            frames.AddRange(Frame(Http2FrameHeader.TypeContinuation, continuationFlags, streamId, block.AsSpan(offset, length)));
        }

        return frames.ToArray();
    }

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes, _timeout.Token);

    public async Task<Http2Response> RequestAsync(int streamId, byte[] block, int maxFragment = 16384, int padding = -1, bool priority = false)
    {
        await SendAsync(HeadersFrames(streamId, block, maxFragment, padding, priority));
        return await ReadResponseAsync(streamId);
    }

    /// <summary>Reads frames until the stream ends, is reset, or the connection goes away.</summary>
    public async Task<Http2Response> ReadResponseAsync(int streamId)
    {
        int? status = null;
        var body = new MemoryStream();
        var headerBlock = new List<byte>();
        var fields = new List<HeaderField>();
        while (true)
        {
            byte[] headerBytes = await ReadExactlyAsync(Http2FrameHeader.Size);
            var header = Http2FrameHeader.Read(headerBytes);
            byte[] payload = await ReadExactlyAsync(header.Length);
            switch (header.Type)
            {
                case TypeSettings when !header.HasFlag(0x1):
                    await AcknowledgeAsync(Frame(TypeSettings, 0x1, 0, []));
                    break;
                case TypePing when !header.HasFlag(0x1):
                    await AcknowledgeAsync(Frame(TypePing, 0x1, 0, payload));
                    break;
                case TypeGoAway:
                    return new Http2Response(status, Encoding.UTF8.GetString(body.ToArray()), null, ReadInt(payload, 4));
                case TypeRstStream when header.StreamId == streamId:
                    return new Http2Response(status, Encoding.UTF8.GetString(body.ToArray()), ReadInt(payload, 0), null);
                case Http2FrameHeader.TypeHeaders or Http2FrameHeader.TypeContinuation when header.StreamId == streamId:
                    headerBlock.AddRange(payload);
                    if (header.HasFlag(Http2FrameHeader.FlagEndHeaders))
                    {
                        _responseDecoder.Decode(headerBlock.ToArray(), fields);
                        foreach (HeaderField field in fields)
                        {
                            if (field.Name.Span.SequenceEqual(":status"u8))
                            {
                                status = int.Parse(field.Value.Span);
                            }
                        }

                        headerBlock.Clear();
                    }

                    break;
                case TypeData when header.StreamId == streamId:
                    body.Write(payload);
                    break;
            }

            if (header.StreamId == streamId && header.Type is TypeData or Http2FrameHeader.TypeHeaders && header.HasFlag(Http2FrameHeader.FlagEndStream))
            {
                return new Http2Response(status, Encoding.UTF8.GetString(body.ToArray()), null, null);
            }
        }
    }

    // A server that has sent GOAWAY and closed cannot take the acknowledgement; what it sent is still to be read.
    private async Task AcknowledgeAsync(byte[] frame)
    {
        try
        {
            await SendAsync(frame);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Reads and drops whatever the server sends until it closes the connection; false if it is still open after <paramref name="limit"/>.</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan limit)
    {
        using var wait = new CancellationTokenSource(limit);
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, wait.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
        _timeout.Dispose();
    }

    private static int ReadInt(byte[] bytes, int offset) =>
        (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset));

    private async Task<byte[]> ReadExactlyAsync(int count)
    {
        var buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer, _timeout.Token);
        return buffer;
    }
}
