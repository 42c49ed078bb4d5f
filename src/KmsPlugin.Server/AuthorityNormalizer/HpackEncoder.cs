using System.Buffers;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// Stateless HPACK encoding: uses only the static table and literals that are never added to the
/// dynamic table, so the peer's dynamic table is neither referenced nor changed.
/// </summary>
internal static class HpackEncoder
{
    /// <summary>
    /// Writes one field: indexed static field when name and value match (§6.1), else a literal without
    /// indexing (§6.2.2) or never indexed (§6.2.3, kept when the field arrived that way) with a static
    /// name index when the name matches, else with a literal name. Strings are Huffman-coded when that is
    /// shorter, unless <paramref name="huffman"/> is false.
    /// </summary>
    public static void EncodeField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed, IBufferWriter<byte> destination, bool huffman = true)
    {
        int index = HpackStaticTable.Find(name, value, out bool valueMatches);
        if (valueMatches && !neverIndexed)
        {
            WriteInteger(index, 7, 0x80, destination);
            return;
        }

        byte flags = neverIndexed ? (byte)0x10 : (byte)0x00;
        WriteInteger(index, 4, flags, destination);
        if (index == 0)
        {
            WriteString(name, destination, huffman);
        }

        WriteString(value, destination, huffman);
    }

    public static void EncodeField(HeaderField field, IBufferWriter<byte> destination, bool huffman = true) =>
        EncodeField(field.Name.Span, field.Value.Span, field.NeverIndexed, destination, huffman);

    /// <summary>String literal (§5.2), Huffman-coded only when <paramref name="huffman"/> and that is shorter.</summary>
    public static void WriteString(ReadOnlySpan<byte> value, IBufferWriter<byte> destination, bool huffman = true)
    {
        int huffmanLength = huffman ? HuffmanEncoder.GetEncodedLength(value) : int.MaxValue;
        if (huffmanLength < value.Length)
        {
            WriteInteger(huffmanLength, 7, 0x80, destination);
            Span<byte> span = destination.GetSpan(huffmanLength);
            destination.Advance(HuffmanEncoder.Encode(value, span));
        }
        else
        {
            WriteInteger(value.Length, 7, 0x00, destination);
            destination.Write(value);
        }
    }

    private static void WriteInteger(int value, int prefixBits, byte flags, IBufferWriter<byte> destination)
    {
        Span<byte> span = destination.GetSpan(HpackInteger.MaxEncodedLength);
        destination.Advance(HpackInteger.Encode(value, prefixBits, flags, span));
    }
}
