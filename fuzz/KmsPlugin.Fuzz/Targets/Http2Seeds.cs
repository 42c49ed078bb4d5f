using System.Buffers;
using KmsPlugin.Server.AuthorityNormalizer;

namespace KmsPlugin.Fuzz.Targets;

/// <summary>HTTP/2 bytes as a gRPC client sends them, for seed corpora.</summary>
internal static class Http2Seeds
{
    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public static byte[] RequestBlock(string authority)
    {
        var block = new ArrayBufferWriter<byte>();
        foreach (var (name, value) in new[] { (":method", "POST"), (":scheme", "http"), (":path", "/v2.KeyManagementService/Decrypt"), (":authority", authority), ("content-type", "application/grpc"), ("te", "trailers") })
        {
            HpackEncoder.EncodeField(System.Text.Encoding.ASCII.GetBytes(name), System.Text.Encoding.ASCII.GetBytes(value), false, block);
        }

        return block.WrittenSpan.ToArray();
    }

    public static byte[] Frame(byte type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[Http2FrameHeader.Size + payload.Length];
        new Http2FrameHeader(payload.Length, type, flags, streamId).Write(frame);
        payload.CopyTo(frame.AsSpan(Http2FrameHeader.Size));
        return frame;
    }

    /// <summary>Preface, SETTINGS, one request's HEADERS (split into a CONTINUATION) and a DATA frame.</summary>
    public static byte[] Connection(string authority)
    {
        var block = RequestBlock(authority);
        var half = block.Length / 2;
        return
        [
            .. Preface,
            .. Frame(0x4, 0, 0, [0, 0x4, 0, 1, 0, 0]),
            .. Frame(Http2FrameHeader.TypeHeaders, 0, 1, block.AsSpan(0, half)),
            .. Frame(Http2FrameHeader.TypeContinuation, Http2FrameHeader.FlagEndHeaders, 1, block.AsSpan(half)),
            .. Frame(0x0, Http2FrameHeader.FlagEndStream, 1, new byte[20]),
        ];
    }
}
