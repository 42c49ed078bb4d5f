namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>Prefix-coded integers, RFC 7541 §5.1.</summary>
internal static class HpackInteger
{
    /// <summary>The longest encoding of a non-negative <see cref="int"/>: prefix octet + 5 continuation octets.</summary>
    public const int MaxEncodedLength = 6;

    /// <summary>
    /// Decodes the integer whose prefix occupies the low <paramref name="prefixBits"/> bits of
    /// <c>source[position]</c> and advances <paramref name="position"/> past it.
    /// </summary>
    /// <exception cref="HpackDecodingException">Truncated input, or a value above <see cref="int.MaxValue"/>.</exception>
    public static int Decode(ReadOnlySpan<byte> source, ref int position, int prefixBits)
    {
        if ((uint)position >= (uint)source.Length)
        {
            throw new HpackDecodingException("HPACK integer is truncated.");
        }

        int mask = (1 << prefixBits) - 1;
        int value = source[position++] & mask;
        if (value < mask)
        {
            return value;
        }

        // Continuation octets: 7 value bits each, least significant group first, high bit = "more".
        for (int shift = 0; ; shift += 7)
        {
            if (position >= source.Length)
            {
                throw new HpackDecodingException("HPACK integer is truncated.");
            }

            byte octet = source[position++];
            long next = value + ((long)(octet & 0x7F) << shift);
            if (shift > 28 || next > int.MaxValue)
            {
                throw new HpackDecodingException("HPACK integer overflows.");
            }

            value = (int)next;
            if ((octet & 0x80) == 0)
            {
                return value;
            }
        }
    }

    /// <summary>
    /// Encodes <paramref name="value"/> with an N-bit prefix; <paramref name="flags"/> fills the bits
    /// above the prefix in the first octet. Returns the number of octets written
    /// (at most <see cref="MaxEncodedLength"/>).
    /// </summary>
    public static int Encode(int value, int prefixBits, byte flags, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        int mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            destination[0] = (byte)(flags | value);
            return 1;
        }

        destination[0] = (byte)(flags | mask);
        value -= mask;
        int written = 1;
        while (value >= 0x80)
        {
            destination[written++] = (byte)((value & 0x7F) | 0x80);
            value >>= 7;
        }

        destination[written++] = (byte)value;
        return written;
    }
}
