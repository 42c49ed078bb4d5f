using System.Buffers;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>The HTTP/2 client connection preface (RFC 9113 §3.4) a prior-knowledge connection starts with.</summary>
internal static class Http2Preface
{
    public static ReadOnlySpan<byte> Bytes => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public enum Match
    {
        /// <summary>The buffer starts with the whole preface.</summary>
        Complete,

        /// <summary>The bytes so far match but are too few to decide.</summary>
        Incomplete,

        /// <summary>Not a prior-knowledge HTTP/2 connection.</summary>
        Mismatch,
    }

    public static Match Check(ReadOnlySequence<byte> buffer)
    {
        int available = (int)Math.Min(buffer.Length, Bytes.Length);
        Span<byte> start = stackalloc byte[Bytes.Length];
        buffer.Slice(0, available).CopyTo(start);
        if (!start[..available].SequenceEqual(Bytes[..available]))
        {
            return Match.Mismatch;
        }

        return available < Bytes.Length ? Match.Incomplete : Match.Complete;
    }
}
