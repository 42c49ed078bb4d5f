using System.Text;
using static KmsPlugin.EtcdValues.Tests.Protobuf;

namespace KmsPlugin.EtcdValues.Tests;

/// <summary>How the reader treats protobuf kube-apiserver never writes (see EncryptedObjectCodec's remarks).</summary>
public sealed class EncryptedObjectCodecTests
{
    [Fact]
    public void Minimal_value_is_canonical()
    {
        var parsed = KmsV2Envelope.Parse(Value(Minimal));
        Assert.True(parsed.IsCanonical);
        Assert.Equal("p", parsed.ProviderName);
        Assert.Equal("k", parsed.Object.KeyId);
        Assert.Equal(EncryptedDekSourceType.AesGcmKey, parsed.Object.EncryptedDekSourceType);
    }

    public static TheoryData<string> UnknownFields => new()
    {
        Convert.ToHexString([.. Tag(9, 0), .. Varint(ulong.MaxValue)]),
        Convert.ToHexString([.. Tag(9, 1), .. new byte[8]]),
        Convert.ToHexString(Bytes(9, "xyz"u8)),
        Convert.ToHexString([.. Tag(9, 5), .. new byte[4]]),
        Convert.ToHexString([.. Tag(9, 3), .. Tag(1, 0), 1, .. Tag(10, 3), .. Tag(10, 4), .. Tag(9, 4)]),
        Convert.ToHexString([.. Tag(536870911, 0), 0]),
    };

    [Theory]
    [MemberData(nameof(UnknownFields))]
    public void Unknown_fields_are_skipped_as_go_does_but_flagged_non_canonical(string unknownHex)
    {
        var parsed = KmsV2Envelope.Parse(Value(Minimal, Convert.FromHexString(unknownHex)));
        Assert.False(parsed.IsCanonical);
        Assert.Equal("k", parsed.Object.KeyId);
        Assert.Equal(40, parsed.Object.EncryptedData.Length);
    }

    public static TheoryData<string, string> MalformedMessages => new()
    {
        { "wire type 6", Convert.ToHexString([.. Tag(9, 6), 0]) },
        { "wire type 7", Convert.ToHexString([.. Tag(9, 7), 0]) },
        { "end group outside a group", Convert.ToHexString(Tag(9, 4)) },
        { "unclosed group", Convert.ToHexString([.. Tag(9, 3), .. Tag(1, 0), 1]) },
        { "keyID as varint", Convert.ToHexString([.. Tag(2, 0), 1]) },
        { "encryptedData as fixed32", Convert.ToHexString([.. Tag(1, 5), 1, 2, 3, 4]) },
        { "type as bytes", Convert.ToHexString(Bytes(5, [1])) },
        { "field number 0", Convert.ToHexString([.. Tag(0, 0), 1]) },
        { "11-byte varint", Convert.ToHexString([.. Tag(9, 0), .. Enumerable.Repeat((byte)0xff, 10), 0]) },
        { "length past the end", Convert.ToHexString([.. Tag(9, 2), 5, 1]) },
        { "huge length", Convert.ToHexString([.. Tag(9, 2), .. Varint(ulong.MaxValue)]) },
        { "keyID not UTF-8", Convert.ToHexString(Bytes(2, [0xc3, 0x28])) },
        { "annotation key as varint", Convert.ToHexString(Bytes(4, [.. Tag(1, 0), 1])) },
        { "truncated annotation entry", Convert.ToHexString(Bytes(4, [.. Tag(1, 2), 9, (byte)'a'])) },
    };

    [Theory]
    [MemberData(nameof(MalformedMessages))]
    public void Malformed_protobuf_is_rejected(string why, string suffixHex)
    {
        var e = Assert.Throws<EtcdValueException>(() => KmsV2Envelope.Parse(Value(Minimal, Convert.FromHexString(suffixHex))));
        Assert.True(e.Error == EtcdValueError.Malformed, $"{why}: {e.Message}");
    }

    [Fact]
    public void Repeated_fields_keep_the_last_value_as_go_does()
    {
        var parsed = KmsV2Envelope.Parse(Value(Minimal, String(2, "second"), Entry("a.b", "1"), Entry("a.b", "2")));
        Assert.Equal("second", parsed.Object.KeyId);
        Assert.Equal("2"u8.ToArray(), parsed.Object.Annotations["a.b"]);
        Assert.False(parsed.IsCanonical);
    }

    [Fact]
    public void Explicit_type_zero_reads_but_is_not_canonical()
    {
        var parsed = KmsV2Envelope.Parse(Value(Minimal, [.. Tag(5, 0), 0]));
        Assert.Equal(EncryptedDekSourceType.AesGcmKey, parsed.Object.EncryptedDekSourceType);
        Assert.False(parsed.IsCanonical);
    }

    [Fact]
    public void Type_is_the_low_32_bits_of_its_varint_as_in_go()
    {
        var parsed = KmsV2Envelope.Parse(Value(Minimal, [.. Tag(5, 0), .. Varint((1UL << 32) + 1)]));
        Assert.Equal(EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed, parsed.Object.EncryptedDekSourceType);
        Assert.False(parsed.IsCanonical);
    }

    public static TheoryData<string, string> InvalidObjects => new()
    {
        { "unknown type", Convert.ToHexString([.. Minimal, .. Tag(5, 0), 2]) },
        { "negative type", Convert.ToHexString([.. Minimal, .. Tag(5, 0), .. Varint(ulong.MaxValue)]) },
        { "no encryptedData", Convert.ToHexString([.. String(2, "k"), .. String(3, "dek")]) },
        { "no keyID", Convert.ToHexString([.. Bytes(1, new byte[40]), .. String(3, "dek")]) },
        { "no encryptedDEKSource", Convert.ToHexString([.. Bytes(1, new byte[40]), .. String(2, "k")]) },
        { "keyID over 1024 bytes", Convert.ToHexString([.. Bytes(1, new byte[40]), .. String(2, new string('k', 1025)), .. String(3, "dek")]) },
        { "encryptedDEKSource over 1024 bytes", Convert.ToHexString([.. Bytes(1, new byte[40]), .. String(2, "k"), .. Bytes(3, new byte[1025])]) },
        { "annotation key with one label", Convert.ToHexString([.. Minimal, .. Entry("local", "x")]) },
        { "annotation key in upper case", Convert.ToHexString([.. Minimal, .. Entry("Local.Kek", "x")]) },
        { "annotation key empty", Convert.ToHexString([.. Minimal, .. Entry("", "x")]) },
        { "annotation label ending in '-'", Convert.ToHexString([.. Minimal, .. Entry("a-.b", "x")]) },
        { "annotations over 32 KiB", Convert.ToHexString([.. Minimal, .. Bytes(4, [.. String(1, "a.b"), .. Bytes(2, new byte[32 * 1024])])]) },
        { "empty message", "" },
    };

    [Theory]
    [MemberData(nameof(InvalidObjects))]
    public void Objects_kube_apiserver_refuses_are_invalid(string why, string messageHex)
    {
        var e = Assert.Throws<EtcdValueException>(() => KmsV2Envelope.Parse(Value(Convert.FromHexString(messageHex))));
        Assert.True(e.Error == EtcdValueError.Invalid, $"{why}: {e.Message}");
    }

    [Theory]
    [InlineData("local-kek.kms.kubernetes.io")]
    [InlineData("a.b.")]
    [InlineData("0.9")]
    public void Fully_qualified_annotation_keys_are_accepted(string key) =>
        KmsV2Envelope.Parse(Value(Minimal, Entry(key, "x")));

    [Fact]
    public void Writes_annotations_sorted_by_key_bytes_and_reads_them_back()
    {
        var annotations = new Dictionary<string, byte[]> { ["z.example"] = [1], ["a.example"] = [], ["m.example"] = [2, 3] };
        var value = KmsV2Envelope.Write("p", new EncryptedObject(new byte[40], "k", "dek"u8.ToArray(), annotations, EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed));

        var expected = Value(Minimal, Bytes(4, String(1, "a.example")), Entry("m.example", "\u0002\u0003"), Entry("z.example", "\u0001"), [.. Tag(5, 0), 1]);
        Assert.Equal(expected, value);
        var parsed = KmsV2Envelope.Parse(value);
        Assert.True(parsed.IsCanonical);
        Assert.Empty(parsed.Object.Annotations["a.example"]);
    }

    [Fact]
    public void Write_refuses_what_kube_apiserver_would_refuse()
    {
        var noKeyId = new EncryptedObject(new byte[40], "", "dek"u8.ToArray(), new Dictionary<string, byte[]>(), EncryptedDekSourceType.AesGcmKey);
        Assert.Equal(EtcdValueError.Invalid, Assert.Throws<EtcdValueException>(() => KmsV2Envelope.Write("p", noKeyId)).Error);
    }

    [Fact]
    public void Non_kms_v2_values_are_malformed_for_the_v2_parser()
    {
        Assert.Equal(EtcdValueError.Malformed, Assert.Throws<EtcdValueException>(() => KmsV2Envelope.Parse(Encoding.ASCII.GetBytes("k8s:enc:kms:v1:ibm:xx"))).Error);
        Assert.Equal(EtcdValueError.Malformed, Assert.Throws<EtcdValueException>(() => KmsV1Envelope.Parse(Value(Minimal))).Error);
    }
}
