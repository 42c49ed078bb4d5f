using static KmsPlugin.EtcdValues.Tests.KubeEnvelopeVectors;

namespace KmsPlugin.EtcdValues.Tests;

public sealed class DataLayerVectorTests
{
    public static TheoryData<string> GcmRaw => IdsOfFormat("gcm-raw");

    public static TheoryData<string> GcmHkdf => IdsOfFormat("gcm-hkdf");

    [Theory]
    [MemberData(nameof(GcmRaw))]
    public void Gcm_raw_vector_opens_to_its_plaintext(string id)
    {
        var v = Vector(id);
        var plaintext = AesGcmData.Open(Hex(v, "key_hex"), Data(v), Hex(v, "aad_hex"));
        Assert.Equal(Hex(v, "plaintext_hex"), plaintext);
        Assert.Equal(v.GetProperty("plaintext_sha256").GetString(), Sha256Hex(plaintext));
    }

    [Theory]
    [MemberData(nameof(GcmRaw))]
    public void Gcm_raw_vector_reseals_byte_for_byte(string id)
    {
        var v = Vector(id);
        var sealedData = AesGcmData.Seal(Hex(v, "key_hex"), Hex(v, "nonce_hex"), Hex(v, "plaintext_hex"), Hex(v, "aad_hex"));
        Assert.Equal(Data(v), sealedData);
    }

    [Theory]
    [MemberData(nameof(GcmHkdf))]
    public void Gcm_hkdf_vector_derives_its_key_and_opens(string id)
    {
        var v = Vector(id);
        var data = Data(v);
        Assert.Equal(Hex(v, "info_hex"), data[..AesGcmHkdfData.InfoSize]);
        Assert.Equal(Hex(v, "derived_key_hex"), AesGcmHkdfData.DeriveKey(Hex(v, "seed_hex"), Hex(v, "info_hex")));
        var plaintext = AesGcmHkdfData.Open(Hex(v, "seed_hex"), data, Hex(v, "aad_hex"));
        Assert.Equal(v.GetProperty("plaintext_sha256").GetString(), Sha256Hex(plaintext));
    }

    [Theory]
    [MemberData(nameof(GcmHkdf))]
    public void Gcm_hkdf_vector_reseals_byte_for_byte(string id)
    {
        var v = Vector(id);
        var sealedData = AesGcmHkdfData.Seal(Hex(v, "seed_hex"), Hex(v, "info_hex"), Hex(v, "nonce_hex"), Hex(v, "plaintext_hex"), Hex(v, "aad_hex"));
        Assert.Equal(Data(v), sealedData);
    }

    [Theory]
    [MemberData(nameof(GcmRaw))]
    public void Gcm_raw_with_wrong_aad_fails_authentication(string id)
    {
        var v = Vector(id);
        var e = Assert.Throws<EtcdValueException>(() => AesGcmData.Open(Hex(v, "key_hex"), Data(v), "bamboO"u8));
        Assert.Equal(EtcdValueError.AuthenticationFailed, e.Error);
    }

    [Theory]
    [MemberData(nameof(GcmHkdf))]
    public void Gcm_hkdf_with_wrong_aad_fails_authentication(string id)
    {
        var v = Vector(id);
        var e = Assert.Throws<EtcdValueException>(() => AesGcmHkdfData.Open(Hex(v, "seed_hex"), Data(v), "/registry/other"u8));
        Assert.Equal(EtcdValueError.AuthenticationFailed, e.Error);
    }

    [Fact]
    public void Hkdf_seed_shorter_than_32_bytes_is_invalid_as_in_kube_apiserver()
    {
        var e = Assert.Throws<EtcdValueException>(() => AesGcmHkdfData.Open(new byte[31], new byte[80], "k"u8));
        Assert.Equal(EtcdValueError.Invalid, e.Error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(33)]
    public void Aes_key_of_wrong_size_is_invalid(int keySize)
    {
        var e = Assert.Throws<EtcdValueException>(() => AesGcmData.Open(new byte[keySize], new byte[40], "k"u8));
        Assert.Equal(EtcdValueError.Invalid, e.Error);
    }
}
