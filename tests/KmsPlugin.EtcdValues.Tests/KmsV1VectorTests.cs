using System.Text;
using static KmsPlugin.EtcdValues.Tests.KubeEnvelopeVectors;

namespace KmsPlugin.EtcdValues.Tests;

public sealed class KmsV1VectorTests
{
    public static TheoryData<string> KmsV1 => IdsOfFormat("kms-v1");

    [Theory]
    [MemberData(nameof(KmsV1))]
    public void Parses_at_the_manifest_offsets(string id)
    {
        var v = Vector(id);
        var data = Data(v);
        var offsets = v.GetProperty("offsets");
        int Start(string part) => offsets.GetProperty(part)[0].GetInt32();
        int End(string part) => offsets.GetProperty(part)[1].GetInt32();

        var parsed = KmsV1Envelope.Parse(data);
        Assert.Equal(v.GetProperty("provider_name").GetString(), parsed.ProviderName);
        Assert.Equal(v.GetProperty("prefix").GetString(), Encoding.ASCII.GetString(data[Start("prefix")..End("prefix")]));
        Assert.Equal(Hex(v, "encDEK_len_prefix_hex"), data[Start("length_prefix")..End("length_prefix")]);
        Assert.Equal(v.GetProperty("encDEK_len").GetInt32(), parsed.EncryptedDek.Length);
        Assert.Equal(data[Start("encDEK")..End("encDEK")], parsed.EncryptedDek.ToArray());
        Assert.Equal(Hex(v, "encDEK_hex"), parsed.EncryptedDek.ToArray());
        Assert.Equal(Ascii(v, "encDEK_ascii"), parsed.EncryptedDek.ToArray());
        Assert.Equal(data[Start("payload")..End("payload")], parsed.Payload.ToArray());
    }

    [Theory]
    [MemberData(nameof(KmsV1))]
    public void Opens_with_the_mock_plugins_dek_as_aes_gcm(string id)
    {
        var v = Vector(id);
        var parsed = KmsV1Envelope.Parse(Data(v));
        var dek = MockDecrypt(parsed.EncryptedDek.Span);
        Assert.Equal(Hex(v, "dek_hex"), dek);

        var opened = KmsV1Envelope.Open(parsed, dek, Hex(v, "aad_hex"));
        Assert.Equal(KmsV1PayloadCipher.AesGcm, opened.Cipher);
        Assert.Equal(v.GetProperty("plaintext_sha256").GetString(), Sha256Hex(opened.Plaintext));
        Assert.Equal(v.GetProperty("plaintext_ascii").GetString(), Encoding.ASCII.GetString(opened.Plaintext));
    }

    [Theory]
    [MemberData(nameof(KmsV1))]
    public void Reseals_from_the_manifest_values_byte_for_byte(string id)
    {
        var v = Vector(id);
        var value = KmsV1Envelope.Seal(
            v.GetProperty("provider_name").GetString()!,
            Ascii(v, "encDEK_ascii"),
            Hex(v, "dek_hex"),
            Hex(v, "nonce_hex"),
            Hex(v, "plaintext_hex"),
            Hex(v, "aad_hex"));
        Assert.Equal(Data(v), value);
    }

    [Theory]
    [MemberData(nameof(KmsV1))]
    public void Wrong_etcd_key_fails_authentication(string id)
    {
        var v = Vector(id);
        var parsed = KmsV1Envelope.Parse(Data(v));
        var e = Assert.Throws<EtcdValueException>(() => KmsV1Envelope.Open(parsed, Hex(v, "dek_hex"), "/registry/secrets/default/other"u8));
        Assert.Equal(EtcdValueError.AuthenticationFailed, e.Error);
    }
}
