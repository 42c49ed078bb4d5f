using KmsPlugin.Server.AuthorityNormalizer;
using static KmsPlugin.Server.Tests.AuthorityNormalizer.HpackTestData;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

/// <summary>RFC 7541 Appendix C, decoded block by block with one decoder per section.</summary>
public sealed class HpackDecoderAppendixCTests
{
    private static readonly (string, string)[] C3Request1 =
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")];
    private static readonly (string, string)[] C3Request2 =
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")];
    private static readonly (string, string)[] C3Request3 =
        [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")];

    private static readonly (string, string)[] C5Response1 =
        [(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")];
    private static readonly (string, string)[] C5Response2 =
        [(":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")];
    private static readonly (string, string)[] C5Response3 =
    [
        (":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"),
        ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
    ];

    private static readonly (string, string)[] C5Table1 =
        [("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("cache-control", "private"), (":status", "302")];
    private static readonly (string, string)[] C5Table2 =
        [(":status", "307"), ("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("cache-control", "private")];
    private static readonly (string, string)[] C5Table3 =
        [("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"), ("content-encoding", "gzip"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT")];

    [Fact]
    public void C2_1_LiteralWithIndexing() => AssertSingleBlock(
        "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        [("custom-key", "custom-header")],
        [("custom-key", "custom-header")],
        55);

    [Fact]
    public void C2_2_LiteralWithoutIndexing() => AssertSingleBlock(
        "040c 2f73 616d 706c 652f 7061 7468", [(":path", "/sample/path")], [], 0);

    [Fact]
    public void C2_3_LiteralNeverIndexed()
    {
        AssertSingleBlock("1008 7061 7373 776f 7264 0673 6563 7265 74", [("password", "secret")], [], 0);

        var fields = new List<HeaderField>();
        new HpackDecoder().Decode(Hex("1008 7061 7373 776f 7264 0673 6563 7265 74"), fields);
        Assert.True(Assert.Single(fields).NeverIndexed);
    }

    [Fact]
    public void C2_4_IndexedField() => AssertSingleBlock("82", [(":method", "GET")], [], 0);

    [Fact]
    public void C3_RequestsWithoutHuffman() => AssertSeries(4096,
        ("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", C3Request1,
            [(":authority", "www.example.com")], 57),
        ("8286 84be 5808 6e6f 2d63 6163 6865", C3Request2,
            [("cache-control", "no-cache"), (":authority", "www.example.com")], 110),
        ("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65", C3Request3,
            [("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")], 164));

    [Fact]
    public void C4_RequestsWithHuffman() => AssertSeries(4096,
        ("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", C3Request1,
            [(":authority", "www.example.com")], 57),
        ("8286 84be 5886 a8eb 1064 9cbf", C3Request2,
            [("cache-control", "no-cache"), (":authority", "www.example.com")], 110),
        ("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", C3Request3,
            [("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")], 164));

    [Fact]
    public void C5_ResponsesWithoutHuffmanAndEvictions() => AssertSeries(256,
        ("""
         4803 3330 3258 0770 7269 7661 7465 611d
         4d6f 6e2c 2032 3120 4f63 7420 3230 3133
         2032 303a 3133 3a32 3120 474d 546e 1768
         7474 7073 3a2f 2f77 7777 2e65 7861 6d70
         6c65 2e63 6f6d
         """, C5Response1, C5Table1, 222),
        ("4803 3330 37c1 c0bf", C5Response2, C5Table2, 222),
        ("""
         88c1 611d 4d6f 6e2c 2032 3120 4f63 7420
         3230 3133 2032 303a 3133 3a32 3220 474d
         54c0 5a04 677a 6970 7738 666f 6f3d 4153
         444a 4b48 514b 425a 584f 5157 454f 5049
         5541 5851 5745 4f49 553b 206d 6178 2d61
         6765 3d33 3630 303b 2076 6572 7369 6f6e
         3d31
         """, C5Response3, C5Table3, 215));

    [Fact]
    public void C6_ResponsesWithHuffmanAndEvictions() => AssertSeries(256,
        ("""
         4882 6402 5885 aec3 771a 4b61 96d0 7abe
         9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8
         e9ae 82ae 43d3
         """, C5Response1, C5Table1, 222),
        ("4883 640e ffc1 c0bf", C5Response2, C5Table2, 222),
        ("""
         88c1 6196 d07a be94 1054 d444 a820 0595
         040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b
         3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07
         """, C5Response3, C5Table3, 215));

    private static void AssertSingleBlock(string hex, (string, string)[] expectedFields, (string, string)[] expectedTable, int expectedSize) =>
        AssertSeries(4096, (hex, expectedFields, expectedTable, expectedSize));

    private static void AssertSeries(int tableSize, params (string Hex, (string, string)[] Fields, (string, string)[] Table, int Size)[] steps)
    {
        var decoder = new HpackDecoder(tableSize);
        var fields = new List<HeaderField>();
        foreach (var step in steps)
        {
            decoder.Decode(Hex(step.Hex), fields);
            Assert.Equal(step.Fields, ToStrings(fields));
            Assert.Equal(step.Table, TableContents(decoder.DynamicTable));
            Assert.Equal(step.Size, decoder.DynamicTable.Size);
        }
    }
}
