using System.Buffers;
using CsCheck;
using KmsPlugin.Server.AuthorityNormalizer;
using KmsPlugin.Server.Tests.AuthorityNormalizer;
using KmsPlugin.Tests.Shared.Properties;
using static KmsPlugin.Server.Tests.AuthorityNormalizer.HpackTestData;

namespace KmsPlugin.Server.Tests.Properties;

/// <summary>
/// The HPACK decoder on mutated header blocks (RFC 7541 Appendix C blocks and blocks our encoder and
/// a dynamic-table-using client write): only <see cref="HpackDecodingException"/> escapes, and what
/// it accepts stays within the header list limit. Also: anything our encoder writes decodes back.
/// </summary>
public sealed class HpackMutationProperties
{
    private const int Cases = 100_000;
    private const int MaxHeaderListSize = 16 * 1024;

    /// <summary>RFC 7541 C.3.1, decoded first so that mutants can refer to a dynamic table entry.</summary>
    private static readonly byte[] Primer = Hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");

    [Fact]
    public void Mutated_header_blocks_fail_with_hpack_decoding_exception_only()
    {
        var blocks = new[]
        {
            Primer,
            Hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"), // C.4.1, Huffman
            Hex("8286 84be 5886 a8eb 1064 9cbf"),             // C.4.2, dynamic index 62
            Hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"), // C.6.1
            TestBlockBuilder.Request("/var/run/kmsplugin/kms.sock", "x"),
            new TestBlockBuilder().SizeUpdate(256).Incremental(1, "[::1]:8080").Indexed(62).Incremental("x-key", "value").ToArray(),
        };
        var accepted = 0;

        FixedSeedProperty.Check(ByteMutations.Of(blocks), mutant =>
        {
            var decoder = new HpackDecoder(4096, MaxHeaderListSize);
            var fields = new List<HeaderField>();
            decoder.Decode(Primer, fields);
            try
            {
                decoder.Decode(mutant.Bytes, fields);
            }
            catch (HpackDecodingException)
            {
                return;
            }

            Assert.True(fields.Sum(f => f.Size) <= MaxHeaderListSize);
            Assert.True(decoder.DynamicTable.Size <= 4096);
            accepted++;
        }, Cases, m => m.ToString());

        Assert.True(accepted > Cases / 20, $"{accepted} accepted");
    }

    [Fact]
    public void Every_header_list_our_encoder_writes_decodes_to_the_same_fields()
    {
        var field = Gen.Select(Gen.Byte.Array[0, 40], Gen.Byte.Array[0, 200], Gen.Bool);
        var headerLists = field.Array[1, 12];

        FixedSeedProperty.Check(headerLists, list =>
        {
            var block = new ArrayBufferWriter<byte>();
            foreach (var (name, value, neverIndexed) in list)
            {
                HpackEncoder.EncodeField(name, value, neverIndexed, block);
            }

            var fields = new List<HeaderField>();
            new HpackDecoder().Decode(block.WrittenMemory, fields);
            Assert.Equal(list.Length, fields.Count);
            for (var i = 0; i < list.Length; i++)
            {
                Assert.Equal(list[i].Item1, fields[i].Name.ToArray());
                Assert.Equal(list[i].Item2, fields[i].Value.ToArray());
                Assert.Equal(list[i].Item3, fields[i].NeverIndexed);
            }
        }, Cases, l => string.Join("; ", l.Select(f => $"{Convert.ToHexString(f.Item1)}={Convert.ToHexString(f.Item2)}{(f.Item3 ? " (never indexed)" : "")}")));
    }
}
