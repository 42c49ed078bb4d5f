namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// Huffman decoding, RFC 7541 §5.2. The HPACK code is canonical (codes of one length are
/// consecutive and sorted by symbol), so a symbol is found from the next 30 bits by its length
/// class: the first length whose left-aligned upper bound exceeds those bits.
/// </summary>
internal static class HuffmanDecoder
{
    private const int MaxCodeLength = 30;

    // Per length class k (ascending bit lengths present in the code):
    private static readonly int[] Lengths;        // bit length
    private static readonly uint[] Limits;        // (last code + 1) << (30 - length): exclusive bound of the class
    private static readonly uint[] FirstCodes;    // first code of the class
    private static readonly int[] FirstSymbolIndex; // index into Symbols of that first code
    private static readonly short[] Symbols;      // symbols sorted by (length, code)

    static HuffmanDecoder()
    {
        ReadOnlySpan<uint> table = HuffmanTable.CodesAndLengths;
        const int symbolCount = HuffmanTable.EosSymbol + 1;

        var symbols = new short[symbolCount];
        for (short s = 0; s < symbolCount; s++)
        {
            symbols[s] = s;
        }

        uint[] codes = new uint[symbolCount];
        uint[] lengths = new uint[symbolCount];
        for (int s = 0; s < symbolCount; s++)
        {
            codes[s] = table[2 * s];
            lengths[s] = table[(2 * s) + 1];
        }

        Array.Sort(symbols, (a, b) => lengths[a] != lengths[b] ? lengths[a].CompareTo(lengths[b]) : codes[a].CompareTo(codes[b]));

        var classLengths = new List<int>();
        var limits = new List<uint>();
        var firstCodes = new List<uint>();
        var firstIndexes = new List<int>();
        for (int i = 0; i < symbolCount; i++)
        {
            int length = (int)lengths[symbols[i]];
            uint code = codes[symbols[i]];
            if (classLengths.Count == 0 || classLengths[^1] != length)
            {
                classLengths.Add(length);
                firstCodes.Add(code);
                firstIndexes.Add(i);
                limits.Add(0);
            }

            limits[^1] = (code + 1) << (MaxCodeLength - length);
        }

        Lengths = [.. classLengths];
        Limits = [.. limits];
        FirstCodes = [.. firstCodes];
        FirstSymbolIndex = [.. firstIndexes];
        Symbols = symbols;
    }

    /// <summary>An upper bound of the decoded length (the shortest code has 5 bits).</summary>
    public static int GetMaxDecodedLength(int encodedLength) => (int)(((long)encodedLength * 8) / 5);

    /// <summary>Decodes <paramref name="source"/> into <paramref name="destination"/>, returning the decoded length.</summary>
    /// <exception cref="HpackDecodingException">EOS inside the string, padding over 7 bits, or padding that is not all ones.</exception>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ulong bits = 0;   // the low 'available' bits are unread input, most significant first
        int available = 0;
        int read = 0;
        int written = 0;
        while (true)
        {
            while (available <= 56 && read < source.Length)
            {
                bits = (bits << 8) | source[read++];
                available += 8;
            }

            if (available == 0)
            {
                return written;
            }

            // The next 30 input bits, zero-filled past the end of the input.
            uint window = available >= MaxCodeLength
                ? (uint)(bits >> (available - MaxCodeLength))
                : (uint)(bits << (MaxCodeLength - available));
            window &= (1u << MaxCodeLength) - 1;

            int k = 0;
            while (window >= Limits[k])
            {
                k++;
            }

            int length = Lengths[k];
            if (length > available)
            {
                // Only reachable once the input is exhausted: what is left must be padding.
                break;
            }

            int symbol = Symbols[FirstSymbolIndex[k] + (int)((window >> (MaxCodeLength - length)) - FirstCodes[k])];
            if (symbol == HuffmanTable.EosSymbol)
            {
                throw new HpackDecodingException("Huffman-coded string contains EOS.");
            }

            if (written >= destination.Length)
            {
                throw new HpackDecodingException("Huffman-coded string is longer than its destination.");
            }

            destination[written++] = (byte)symbol;
            available -= length;
        }

        if (available > 7)
        {
            throw new HpackDecodingException("Huffman padding is longer than 7 bits.");
        }

        ulong padMask = (1UL << available) - 1;
        if ((bits & padMask) != padMask)
        {
            throw new HpackDecodingException("Huffman padding is not the most significant bits of EOS.");
        }

        return written;
    }
}
