using KmsPlugin.Server.AuthorityNormalizer;
using static KmsPlugin.Server.Tests.AuthorityNormalizer.HpackTestData;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

public sealed class HpackIntegerTests
{
    // RFC 7541 C.1.1-C.1.3
    [Theory]
    [InlineData(10, 5, "0a")]
    [InlineData(1337, 5, "1f9a0a")]
    [InlineData(42, 8, "2a")]
    [InlineData(31, 5, "1f00")]
    [InlineData(int.MaxValue, 7, "7f80ffffff07")]
    public void EncodesAndDecodesAppendixExamples(int value, int prefixBits, string hex)
    {
        byte[] expected = Hex(hex);
        var buffer = new byte[HpackInteger.MaxEncodedLength];
        int written = HpackInteger.Encode(value, prefixBits, 0, buffer);
        Assert.Equal(expected, buffer[..written]);

        int position = 0;
        Assert.Equal(value, HpackInteger.Decode(expected, ref position, prefixBits));
        Assert.Equal(expected.Length, position);
    }

    [Fact]
    public void FlagBitsAboveThePrefixAreIgnoredAndKept()
    {
        var buffer = new byte[HpackInteger.MaxEncodedLength];
        Assert.Equal(1, HpackInteger.Encode(2, 7, 0x80, buffer));
        Assert.Equal(0x82, buffer[0]);

        int position = 0;
        Assert.Equal(10, HpackInteger.Decode([0xEA], ref position, 5));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1f")]
    [InlineData("1f9a")]
    [InlineData("1fffffff")]
    public void TruncatedIntegerThrows(string hex)
    {
        byte[] input = Hex(hex);
        Assert.Throws<HpackDecodingException>(() => { int p = 0; HpackInteger.Decode(input, ref p, 5); });
    }

    [Theory]
    [InlineData("7f ff ff ff ff 0f")]      // 127 + 2^35 - 1
    [InlineData("7f f1 ff ff ff 07")]      // int.MaxValue + 1
    [InlineData("7f 80 80 80 80 80 00")]   // zero padding beyond 32 bits
    public void OverflowingIntegerThrows(string hex)
    {
        byte[] input = Hex(hex);
        Assert.Throws<HpackDecodingException>(() => { int p = 0; HpackInteger.Decode(input, ref p, 7); });
    }
}
