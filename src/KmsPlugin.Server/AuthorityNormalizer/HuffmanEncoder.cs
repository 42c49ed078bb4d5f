namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>Huffman encoding of string literals, RFC 7541 §5.2 and Appendix B.</summary>
internal static class HuffmanEncoder
{
    /// <summary>The encoded length in octets, including the final padding.</summary>
    public static int GetEncodedLength(ReadOnlySpan<byte> source)
    {
        ReadOnlySpan<uint> table = HuffmanTable.CodesAndLengths;
        long bits = 0;
        foreach (byte b in source)
        {
            bits += table[(2 * b) + 1];
        }

        return checked((int)((bits + 7) >> 3));
    }

    /// <summary>Writes the code of every octet, then pads with the most significant bits of EOS (all ones).</summary>
    public static int Encode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ReadOnlySpan<uint> table = HuffmanTable.CodesAndLengths;

        // Only the low 'pending' bits of 'bits' matter; older bits are shifted out or masked by the byte casts.
        ulong bits = 0;
        int pending = 0;
        int written = 0;
        foreach (byte b in source)
        {
            int length = (int)table[(2 * b) + 1];
            bits = (bits << length) | table[2 * b];
            pending += length;
            while (pending >= 8)
            {
                pending -= 8;
                destination[written++] = (byte)(bits >> pending);
            }
        }

        if (pending > 0)
        {
            destination[written++] = (byte)((bits << (8 - pending)) | (0xFFu >> pending));
        }

        return written;
    }
}
