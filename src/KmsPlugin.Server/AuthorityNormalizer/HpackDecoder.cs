namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// Decodes complete header blocks (RFC 7541 §3, §6) and keeps the decoding context (dynamic table)
/// from one block to the next, as the peer's encoder expects.
/// </summary>
internal sealed class HpackDecoder
{
    private readonly int _maxTableSizeLimit;
    private readonly int _maxHeaderListSize;
    private byte[] _scratch = new byte[256];
    private int _scratchUsed;

    /// <param name="maxTableSizeLimit">
    /// The SETTINGS_HEADER_TABLE_SIZE the decoding side advertised; also the initial table size.
    /// </param>
    /// <param name="maxHeaderListSize">Largest accepted sum of field sizes (name + value + 32 each) per block.</param>
    public HpackDecoder(int maxTableSizeLimit = 4096, int maxHeaderListSize = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTableSizeLimit);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHeaderListSize);
        _maxTableSizeLimit = maxTableSizeLimit;
        _maxHeaderListSize = maxHeaderListSize;
        DynamicTable = new HpackDynamicTable(maxTableSizeLimit);
    }

    public HpackDynamicTable DynamicTable { get; }

    /// <summary>
    /// Decodes one complete header block into <paramref name="fields"/> (cleared first). The fields may
    /// point into <paramref name="block"/>, so keep it unchanged while they are used; they are valid
    /// until the next call.
    /// </summary>
    /// <exception cref="HpackDecodingException">Any malformed input. The context is then unusable.</exception>
    public void Decode(ReadOnlyMemory<byte> block, List<HeaderField> fields)
    {
        fields.Clear();
        _scratchUsed = 0;
        ReadOnlySpan<byte> span = block.Span;
        int position = 0;
        int listSize = 0;
        bool sizeUpdateAllowed = true;

        while (position < span.Length)
        {
            byte first = span[position];
            HeaderField field;
            if ((first & 0x80) != 0)
            {
                // 1xxxxxxx: indexed header field (§6.1)
                field = GetIndexed(HpackInteger.Decode(span, ref position, 7));
            }
            else if ((first & 0x40) != 0)
            {
                // 01xxxxxx: literal with incremental indexing (§6.2.1)
                ReadOnlyMemory<byte> name = ReadName(block, ref position, 6);
                ReadOnlyMemory<byte> value = ReadString(block, ref position);
                field = DynamicTable.Insert(name.Span, value.Span);
            }
            else if ((first & 0x20) != 0)
            {
                // 001xxxxx: dynamic table size update (§6.3), only before the first field (§4.2)
                if (!sizeUpdateAllowed)
                {
                    throw new HpackDecodingException("Dynamic table size update after the first header field.");
                }

                int newSize = HpackInteger.Decode(span, ref position, 5);
                if (newSize > _maxTableSizeLimit)
                {
                    throw new HpackDecodingException("Dynamic table size update above the advertised maximum.");
                }

                DynamicTable.SetMaxSize(newSize);
                continue;
            }
            else
            {
                // 0000xxxx: literal without indexing (§6.2.2); 0001xxxx: literal never indexed (§6.2.3)
                bool neverIndexed = (first & 0x10) != 0;
                ReadOnlyMemory<byte> name = ReadName(block, ref position, 4);
                ReadOnlyMemory<byte> value = ReadString(block, ref position);
                field = new HeaderField(name, value, neverIndexed);
            }

            sizeUpdateAllowed = false;
            listSize += field.Size;
            if (listSize > _maxHeaderListSize)
            {
                throw new HpackDecodingException("Decoded header list is larger than the limit.");
            }

            fields.Add(field);
        }
    }

    private HeaderField GetIndexed(int index)
    {
        if (index == 0)
        {
            throw new HpackDecodingException("Header field index 0.");
        }

        if (index <= HpackStaticTable.Count)
        {
            return HpackStaticTable.Get(index);
        }

        int dynamicIndex = index - HpackStaticTable.Count - 1;
        if (dynamicIndex >= DynamicTable.Count)
        {
            throw new HpackDecodingException("Header field index beyond the tables.");
        }

        return DynamicTable[dynamicIndex];
    }

    private ReadOnlyMemory<byte> ReadName(ReadOnlyMemory<byte> block, ref int position, int prefixBits)
    {
        int index = HpackInteger.Decode(block.Span, ref position, prefixBits);
        return index == 0 ? ReadString(block, ref position) : GetIndexed(index).Name;
    }

    /// <summary>String literal, §5.2: H bit + 7-bit prefix length, then the octets.</summary>
    private ReadOnlyMemory<byte> ReadString(ReadOnlyMemory<byte> block, ref int position)
    {
        ReadOnlySpan<byte> span = block.Span;
        if (position >= span.Length)
        {
            throw new HpackDecodingException("String literal is truncated.");
        }

        bool huffman = (span[position] & 0x80) != 0;
        int length = HpackInteger.Decode(span, ref position, 7);
        if (length > span.Length - position)
        {
            throw new HpackDecodingException("String literal is truncated.");
        }

        int start = position;
        position += length;
        if (!huffman)
        {
            return block.Slice(start, length);
        }

        int capacity = HuffmanDecoder.GetMaxDecodedLength(length);
        if (_scratch.Length - _scratchUsed < capacity)
        {
            // A new array, not a resize in place: fields decoded earlier in this block still point at the old one.
            _scratch = new byte[Math.Max(_scratch.Length * 2, capacity)];
            _scratchUsed = 0;
        }

        int decoded = HuffmanDecoder.Decode(span.Slice(start, length), _scratch.AsSpan(_scratchUsed, capacity));
        var result = new ReadOnlyMemory<byte>(_scratch, _scratchUsed, decoded);
        _scratchUsed += decoded;
        return result;
    }
}
