using KmsPlugin.Server.AuthorityNormalizer;
using static KmsPlugin.Server.Tests.AuthorityNormalizer.HpackTestData;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

public sealed class HpackDecoderMalformedTests
{
    [Theory]
    [InlineData("ff", "truncated index integer")]
    [InlineData("ff 80", "truncated index continuation")]
    [InlineData("ff ff ff ff ff 0f", "index integer overflow")]
    [InlineData("80", "index 0")]
    [InlineData("be", "index 62 with an empty dynamic table")]
    [InlineData("ff 80 01", "index 255 beyond the tables")]
    [InlineData("41", "literal missing its value")]
    [InlineData("41 05 61 62", "value shorter than its length")]
    [InlineData("41 7f ff ff ff ff 0f", "string length overflow")]
    [InlineData("40 05 61", "literal name shorter than its length")]
    [InlineData("00 81 ff 01 61", "Huffman name with 8 bits of padding")]
    [InlineData("04 81 1e", "Huffman value with padding not all ones")]
    [InlineData("04 84 ff ff ff fc", "Huffman value containing EOS")]
    [InlineData("3f e2 1f", "size update 4097 above the 4096 maximum")]
    [InlineData("82 20", "size update after a field")]
    [InlineData("0f 2f 00", "literal name index 62 with an empty dynamic table")]
    public void MalformedBlockThrowsHpackDecodingException(string hex, string because)
    {
        var decoder = new HpackDecoder(4096);
        var fields = new List<HeaderField>();
        var exception = Record.Exception(() => decoder.Decode(Hex(hex), fields));
        Assert.True(exception is HpackDecodingException, $"{because}: got {exception?.GetType().Name ?? "no exception"}");
    }

    [Fact]
    public void SizeUpdatesAtBlockStartAreApplied()
    {
        var decoder = new HpackDecoder(4096);
        var fields = new List<HeaderField>();
        decoder.Decode(Hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"), fields);
        Assert.Equal(55, decoder.DynamicTable.Size);

        // Two updates (to 0, then back to 4096) before the first field: the table is emptied.
        decoder.Decode(Hex("20 3f e1 1f 82"), fields);
        Assert.Equal(0, decoder.DynamicTable.Count);
        Assert.Equal(4096, decoder.DynamicTable.MaxSize);
        Assert.Equal([(":method", "GET")], ToStrings(fields));
    }

    [Fact]
    public void EntryLargerThanTableEmptiesIt()
    {
        var decoder = new HpackDecoder(64);
        var fields = new List<HeaderField>();
        decoder.Decode(Hex("40 01 61 01 62"), fields); // a: b, 34 bytes
        Assert.Equal(1, decoder.DynamicTable.Count);
        decoder.Decode(Hex("40 01 61 20" + string.Concat(Enumerable.Repeat("62", 32))), fields); // 65 bytes
        Assert.Equal(0, decoder.DynamicTable.Count);
        Assert.Equal(0, decoder.DynamicTable.Size);
        Assert.Equal(32, fields[0].Value.Length);
    }

    [Fact]
    public void HeaderListLargerThanLimitThrows()
    {
        // Insert a 100-byte value once, then reference it 20 times: 20 * (10 + 100 + 32) > 2048.
        var decoder = new HpackDecoder(4096, maxHeaderListSize: 2048);
        var block = Hex("40 0a 78 2d 72 65 70 65 61 74 65 64 64" + string.Concat(Enumerable.Repeat("78", 100)));
        block = [.. block, .. Enumerable.Repeat((byte)0xBE, 20)];
        Assert.Throws<HpackDecodingException>(() => decoder.Decode(block, []));
    }
}
