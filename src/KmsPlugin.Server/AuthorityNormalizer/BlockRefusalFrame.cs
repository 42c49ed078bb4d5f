using System.IO.Pipelines;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// What Kestrel gets instead of a header block over the bound: a HEADERS frame whose block only raises
/// the dynamic table size above the limit Kestrel advertised, a COMPRESSION_ERROR (RFC 7541 §4.2,
/// RFC 9113 §4.3), which it answers with its own GOAWAY before it closes the connection.
/// </summary>
internal static class BlockRefusalFrame
{
    public static void Write(PipeWriter output, int maxHeaderTableSize, int streamId)
    {
        Span<byte> frame = output.GetSpan(Http2FrameHeader.Size + HpackInteger.MaxEncodedLength);
        int length = HpackInteger.Encode(maxHeaderTableSize + 1, 5, 0x20, frame[Http2FrameHeader.Size..]);
        byte flags = Http2FrameHeader.FlagEndHeaders | Http2FrameHeader.FlagEndStream;
        new Http2FrameHeader(length, Http2FrameHeader.TypeHeaders, flags, streamId).Write(frame);
        output.Advance(Http2FrameHeader.Size + length);
    }
}
