using System.Buffers;
using KmsPlugin.Server.AuthorityNormalizer;
using static KmsPlugin.Server.Tests.AuthorityNormalizer.HpackTestData;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

public sealed class HpackEncoderTests
{
    [Theory]
    [InlineData(":method", "GET", "82")]                          // static name and value
    [InlineData(":path", "/index.html", "85")]
    [InlineData(":authority", "localhost", "01 86 a0e4 1d13 9d09")] // static name, Huffman value (6 < 9)
    [InlineData("custom-key", "custom-value", "00 88 25a8 49e9 5ba9 7d7f 89 25a8 49e9 5bb8 e8b4 bf")]
    [InlineData(":path", "/sample/path", "04 89 6103 a6ba 0ac5 634c ff")]
    [InlineData("x", "~~", "00 01 78 02 7e 7e")]                    // Huffman longer: raw
    public void EncodesStatelessly(string name, string value, string hex)
    {
        var writer = new ArrayBufferWriter<byte>();
        HpackEncoder.EncodeField(Ascii(name), Ascii(value), neverIndexed: false, writer);
        Assert.Equal(Hex(hex), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void StaticTableLookupMatchesAScanOfAllEntries()
    {
        var names = Enumerable.Range(1, HpackStaticTable.Count).Select(i => HpackStaticTable.Get(i)).ToList();
        var probes = names.Select(f => (f.Name.ToArray(), f.Value.ToArray()))
            .Concat(names.Select(f => (f.Name.ToArray(), Ascii("other"))))
            .Concat([(Ascii("x-unknown"), Ascii("")), (Ascii(":authorit"), Ascii("")), (Ascii(""), Ascii("")), (new byte[40], Ascii(""))]);
        foreach (var (name, value) in probes)
        {
            int expectedName = names.FindIndex(f => f.Name.Span.SequenceEqual(name)) + 1;
            int expectedBoth = names.FindIndex(f => f.Name.Span.SequenceEqual(name) && f.Value.Span.SequenceEqual(value)) + 1;

            int found = HpackStaticTable.Find(name, value, out bool valueMatches);
            Assert.Equal(expectedBoth > 0, valueMatches);
            Assert.Equal(expectedBoth > 0 ? expectedBoth : expectedName, found);
        }
    }

    [Fact]
    public void WithoutHuffmanStringsGoOutRaw()
    {
        var writer = new ArrayBufferWriter<byte>();
        HpackEncoder.EncodeField(Ascii(":authority"), Ascii("localhost"), neverIndexed: false, writer, huffman: false);
        Assert.Equal(Hex("01 09 6c6f 6361 6c68 6f73 74"), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void NeverIndexedStaysNeverIndexed()
    {
        var writer = new ArrayBufferWriter<byte>();
        HpackEncoder.EncodeField(Ascii(":method"), Ascii("GET"), neverIndexed: true, writer);
        HpackEncoder.EncodeField(Ascii("password"), Ascii("secret"), neverIndexed: true, writer);

        var fields = new List<HeaderField>();
        new HpackDecoder().Decode(writer.WrittenMemory, fields);
        Assert.Equal([(":method", "GET"), ("password", "secret")], ToStrings(fields));
        Assert.All(fields, f => Assert.True(f.NeverIndexed));
        Assert.Equal(0x12, writer.WrittenSpan[0]); // 0001 + name index 2
    }

    [Fact]
    public void RoundTripsWithoutTouchingTheDynamicTable()
    {
        (string, string)[] input =
        [
            (":method", "POST"), (":scheme", "http"), (":path", "/v1beta1.KeyManagementService/Encrypt"),
            (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers"),
            ("grpc-timeout", "2999751u"), ("user-agent", "grpc-go/1.33.3"), ("x-empty", ""),
            ("x-binary", "\u0000\u0001\u00ff"), ("x-long", new string('z', 5000)),
        ];
        var writer = new ArrayBufferWriter<byte>();
        foreach (var (name, value) in input)
        {
            HpackEncoder.EncodeField(
                System.Text.Encoding.Latin1.GetBytes(name), System.Text.Encoding.Latin1.GetBytes(value), false, writer);
        }

        var decoder = new HpackDecoder();
        var fields = new List<HeaderField>();
        decoder.Decode(writer.WrittenMemory, fields);
        Assert.Equal(
            input,
            fields.Select(f => (System.Text.Encoding.Latin1.GetString(f.Name.Span), System.Text.Encoding.Latin1.GetString(f.Value.Span))).ToArray());
        Assert.Equal(0, decoder.DynamicTable.Count);
    }
}
