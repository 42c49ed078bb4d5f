using KmsPlugin.Server.AuthorityNormalizer;
using static KmsPlugin.Server.Tests.AuthorityNormalizer.HpackTestData;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

public sealed class HuffmanTests
{
    // Every Huffman-coded string of RFC 7541 C.4 and C.6.
    [Theory]
    [InlineData("www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff")]
    [InlineData("no-cache", "a8eb 1064 9cbf")]
    [InlineData("custom-key", "25a8 49e9 5ba9 7d7f")]
    [InlineData("custom-value", "25a8 49e9 5bb8 e8b4 bf")]
    [InlineData("302", "6402")]
    [InlineData("private", "aec3 771a 4b")]
    [InlineData("Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff")]
    [InlineData("https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3")]
    [InlineData("307", "640e ff")]
    [InlineData("Mon, 21 Oct 2013 20:13:22 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff")]
    [InlineData("gzip", "9bd9 ab")]
    [InlineData("foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07")]
    public void EncodesAndDecodesAppendixStrings(string text, string hex)
    {
        byte[] plain = Ascii(text);
        byte[] expected = Hex(hex);

        Assert.Equal(expected.Length, HuffmanEncoder.GetEncodedLength(plain));
        var encoded = new byte[expected.Length];
        Assert.Equal(expected.Length, HuffmanEncoder.Encode(plain, encoded));
        Assert.Equal(expected, encoded);

        var decoded = new byte[HuffmanDecoder.GetMaxDecodedLength(expected.Length)];
        int length = HuffmanDecoder.Decode(expected, decoded);
        Assert.Equal(text, Ascii(decoded.AsMemory(0, length)));
    }

    [Fact]
    public void RoundTripsEveryOctet()
    {
        byte[] all = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(Enumerable.Range(0, 256).Select(i => (byte)(255 - i))).ToArray();
        var encoded = new byte[HuffmanEncoder.GetEncodedLength(all)];
        HuffmanEncoder.Encode(all, encoded);
        var decoded = new byte[HuffmanDecoder.GetMaxDecodedLength(encoded.Length)];
        int length = HuffmanDecoder.Decode(encoded, decoded);
        Assert.Equal(all, decoded[..length]);
    }

    [Theory]
    [InlineData("ff")]             // 8 bits of padding
    [InlineData("1f ff")]          // 'a' (00011) then 11 bits of padding
    [InlineData("1e")]             // 'a' then padding 110: not all ones
    [InlineData("18")]             // 'a' then padding 000
    [InlineData("ff ff ff fc")]    // EOS (30 ones) then 00: EOS is a symbol, never allowed
    [InlineData("ff ff ff ff")]    // EOS then 11
    public void RejectsBadPaddingAndEos(string hex)
    {
        byte[] input = Hex(hex);
        var output = new byte[16];
        Assert.Throws<HpackDecodingException>(() => HuffmanDecoder.Decode(input, output));
    }

    [Fact]
    public void AcceptsUpToSevenBitsOfOnesAsPadding()
    {
        // '0' is 00000; then 111 pads the octet. 'a' 00011 + 111.
        var output = new byte[4];
        Assert.Equal(1, HuffmanDecoder.Decode([0x07], output));
        Assert.Equal((byte)'0', output[0]);
        Assert.Equal(1, HuffmanDecoder.Decode([0x1F], output));
        Assert.Equal((byte)'a', output[0]);
        Assert.Equal(0, HuffmanDecoder.Decode([], output));
    }
}
