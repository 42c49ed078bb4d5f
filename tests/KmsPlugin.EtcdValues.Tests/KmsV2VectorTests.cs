using System.Text;
using static KmsPlugin.EtcdValues.Tests.KubeEnvelopeVectors;

namespace KmsPlugin.EtcdValues.Tests;

public sealed class KmsV2VectorTests
{
    public static TheoryData<string> KmsV2 => IdsOfFormat("kms-v2");

    [Theory]
    [MemberData(nameof(KmsV2))]
    public void Parses_to_the_manifest_field_values(string id)
    {
        var v = Vector(id);
        var o = v.GetProperty("encrypted_object");
        var parsed = KmsV2Envelope.Parse(Data(v));

        Assert.Equal(v.GetProperty("provider_name").GetString(), parsed.ProviderName);
        Assert.True(parsed.IsCanonical);
        Assert.Equal(Hex(o, "encryptedData_hex"), parsed.Object.EncryptedData.ToArray());
        Assert.Equal(o.GetProperty("keyID").GetString(), parsed.Object.KeyId);
        Assert.Equal(Hex(o, "encryptedDEKSource_hex"), parsed.Object.EncryptedDekSource.ToArray());
        Assert.Equal(Ascii(o, "encryptedDEKSource_ascii"), parsed.Object.EncryptedDekSource.ToArray());
        Assert.Equal(o.GetProperty("encryptedDEKSourceType").GetInt32(), (int)parsed.Object.EncryptedDekSourceType);
        var expected = Annotations(o.GetProperty("annotations"));
        Assert.Equal(expected.Keys.Order(), parsed.Object.Annotations.Keys.Order());
        foreach (var (key, value) in expected)
        {
            Assert.Equal(value, parsed.Object.Annotations[key]);
        }
    }

    [Theory]
    [MemberData(nameof(KmsV2))]
    public void Fields_lie_at_the_manifest_wire_spans(string id)
    {
        var v = Vector(id);
        var data = Data(v);
        var parsed = KmsV2Envelope.Parse(data);
        foreach (var span in v.GetProperty("encrypted_object").GetProperty("wire_spans").EnumerateArray())
        {
            var field = span.GetProperty("field").GetInt32();
            var tag = (byte)((field << 3) | span.GetProperty("wire_type").GetInt32());
            Assert.Equal(tag, data[span.GetProperty("tag_offset").GetInt32()]);
            var bytes = data.AsSpan(span.GetProperty("value_offset").GetInt32(), span.GetProperty("value_len").GetInt32()).ToArray();
            switch (field)
            {
                case 1:
                    Assert.Equal(parsed.Object.EncryptedData.ToArray(), bytes);
                    break;
                case 2:
                    Assert.Equal(parsed.Object.KeyId, Encoding.UTF8.GetString(bytes));
                    break;
                case 3:
                    Assert.Equal(parsed.Object.EncryptedDekSource.ToArray(), bytes);
                    break;
                case 5:
                    Assert.Equal((byte)parsed.Object.EncryptedDekSourceType, Assert.Single(bytes));
                    break;
            }
        }
    }

    [Theory]
    [MemberData(nameof(KmsV2))]
    public void Opens_with_the_mock_plugins_dek_source_to_the_manifest_plaintext(string id)
    {
        var v = Vector(id);
        var parsed = KmsV2Envelope.Parse(Data(v));
        var dekSource = MockDecrypt(parsed.Object.EncryptedDekSource.Span);
        Assert.Equal(Hex(v, parsed.Object.EncryptedDekSourceType == EncryptedDekSourceType.AesGcmKey ? "dek_hex" : "seed_hex"), dekSource);

        var plaintext = KmsV2Envelope.Open(parsed.Object, dekSource, Hex(v, "aad_hex"));
        Assert.Equal(v.GetProperty("plaintext_sha256").GetString(), Sha256Hex(plaintext));
        Assert.Equal(Hex(v, "plaintext_hex"), plaintext);
    }

    [Theory]
    [MemberData(nameof(KmsV2))]
    public void Seed_vector_derives_the_manifest_key(string id)
    {
        var v = Vector(id);
        var parsed = KmsV2Envelope.Parse(Data(v));
        if (parsed.Object.EncryptedDekSourceType != EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed)
        {
            Assert.False(v.TryGetProperty("derived_key_hex", out _));
            return;
        }

        var info = parsed.Object.EncryptedData.Span[..AesGcmHkdfData.InfoSize];
        Assert.Equal(Hex(v, "info_hex"), info.ToArray());
        Assert.Equal(Hex(v, "derived_key_hex"), AesGcmHkdfData.DeriveKey(Hex(v, "seed_hex"), info));
    }

    [Theory]
    [MemberData(nameof(KmsV2))]
    public void Reserialises_from_the_parsed_fields_byte_for_byte(string id)
    {
        var v = Vector(id);
        var data = Data(v);
        var parsed = KmsV2Envelope.Parse(data);
        var rebuilt = new EncryptedObject(
            parsed.Object.EncryptedData.ToArray(),
            parsed.Object.KeyId,
            parsed.Object.EncryptedDekSource.ToArray(),
            new Dictionary<string, byte[]>(parsed.Object.Annotations),
            parsed.Object.EncryptedDekSourceType);
        Assert.Equal(data, KmsV2Envelope.Write(parsed.ProviderName, rebuilt));
    }

    [Theory]
    [MemberData(nameof(KmsV2))]
    public void Reseals_from_the_manifest_values_byte_for_byte(string id)
    {
        var v = Vector(id);
        var o = v.GetProperty("encrypted_object");
        var type = (EncryptedDekSourceType)o.GetProperty("encryptedDEKSourceType").GetInt32();
        var seed = type == EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed;
        var value = KmsV2Envelope.Seal(
            v.GetProperty("provider_name").GetString()!,
            type,
            Hex(v, seed ? "seed_hex" : "dek_hex"),
            o.GetProperty("keyID").GetString()!,
            Ascii(o, "encryptedDEKSource_ascii"),
            Annotations(o.GetProperty("annotations")),
            seed ? Hex(v, "info_hex") : [],
            Hex(v, "nonce_hex"),
            Hex(v, "plaintext_hex"),
            Hex(v, "aad_hex"));
        Assert.Equal(Data(v), value);
    }

    [Theory]
    [MemberData(nameof(KmsV2))]
    public void Wrong_etcd_key_fails_authentication(string id)
    {
        var v = Vector(id);
        var parsed = KmsV2Envelope.Parse(Data(v));
        var wrongKey = Encoding.ASCII.GetBytes(v.GetProperty("etcd_key").GetString()! + "x");
        var e = Assert.Throws<EtcdValueException>(() => KmsV2Envelope.Open(parsed.Object, MockDecrypt(parsed.Object.EncryptedDekSource.Span), wrongKey));
        Assert.Equal(EtcdValueError.AuthenticationFailed, e.Error);
    }

    [Theory]
    [MemberData(nameof(KmsV2))]
    public void Classifies_as_kms_v2_with_the_provider_name(string id)
    {
        var v = Vector(id);
        var classified = EtcdValuePrefix.Classify(Data(v));
        Assert.Equal(EtcdValueKind.KmsV2, classified.Kind);
        Assert.Equal(v.GetProperty("provider_name").GetString(), classified.Name);
        Assert.Equal(Data(v).Length - v.GetProperty("prefix").GetString()!.Length, classified.Rest.Length);
    }
}
