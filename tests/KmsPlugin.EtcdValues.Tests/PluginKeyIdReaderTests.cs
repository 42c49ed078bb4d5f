using System.Security.Cryptography;
using System.Text;
using KmsPlugin.Core.Envelope;

namespace KmsPlugin.EtcdValues.Tests;

/// <summary>
/// Values written the way the kube-apiserver stand-in writes them: the encrypted DEK (v1) or DEK
/// source (v2) is a kms-plugin ciphertext, laid out here by the plugin's own EnvelopeFormat.
/// </summary>
public sealed class PluginKeyIdReaderTests
{
    private static readonly byte[] EtcdKey = "/registry/secrets/default/s1"u8.ToArray();
    private static readonly byte[] Secret = "{\"kind\":\"Secret\",\"data\":{\"password\":\"aHVudGVyMg==\"}}"u8.ToArray();

    [Fact]
    public void Kms_v1_value_names_the_root_key_of_its_encrypted_dek_and_reads_back()
    {
        var dek = RandomNumberGenerator.GetBytes(32);
        var value = KmsV1Envelope.Seal("ibm", PluginCiphertext("kek-a"), dek, Secret, EtcdKey);

        Assert.Equal(new PluginKeyIds(EtcdValueKind.KmsV1, "ibm", "kek-a", null), PluginKeyIdReader.Read(value));
        Assert.StartsWith("k8s:enc:kms:v1:ibm:", Encoding.ASCII.GetString(value));
        Assert.Equal(-1, value.AsSpan().IndexOf("aHVudGVyMg"u8));
        var opened = KmsV1Envelope.Open(KmsV1Envelope.Parse(value), dek, EtcdKey);
        Assert.Equal(KmsV1PayloadCipher.AesGcm, opened.Cipher);
        Assert.Equal(Secret, opened.Plaintext);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Kms_v2_value_names_the_root_key_and_the_stored_key_id_and_reads_back(int type)
    {
        var dekSource = RandomNumberGenerator.GetBytes(32);
        var annotations = new Dictionary<string, byte[]> { ["kms-plugin.example.io"] = [1] };
        var value = KmsV2Envelope.Seal("kms-plugin", (EncryptedDekSourceType)type, dekSource, "kek-b", PluginCiphertext("kek-b"), annotations, Secret, EtcdKey);

        Assert.Equal(new PluginKeyIds(EtcdValueKind.KmsV2, "kms-plugin", "kek-b", "kek-b"), PluginKeyIdReader.Read(value));
        Assert.StartsWith("k8s:enc:kms:v2:kms-plugin:", Encoding.ASCII.GetString(value));
        Assert.Equal(-1, value.AsSpan().IndexOf("aHVudGVyMg"u8));
        var parsed = KmsV2Envelope.Parse(value);
        Assert.True(parsed.IsCanonical);
        Assert.Equal(Secret, KmsV2Envelope.Open(parsed.Object, dekSource, EtcdKey));
    }

    [Fact]
    public void Stored_key_id_is_reported_even_when_it_differs_from_the_header()
    {
        var value = KmsV2Envelope.Seal("p", EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed, new byte[32], "kek-old", PluginCiphertext("kek-new"), new Dictionary<string, byte[]>(), Secret, EtcdKey);
        var ids = PluginKeyIdReader.Read(value);
        Assert.Equal("kek-new", ids.RootKeyId);
        Assert.Equal("kek-old", ids.StoredKeyId);
    }

    [Fact]
    public void A_dek_from_another_plugin_is_not_a_plugin_ciphertext()
    {
        var value = File.ReadAllBytes(RepositoryPaths.SharedTestData("kube-envelope", "kmsv1-ibm.bin"));
        var e = Assert.Throws<EtcdValueException>(() => PluginKeyIdReader.Read(value));
        Assert.Equal(EtcdValueError.NotPluginCiphertext, e.Error);

        var v2 = File.ReadAllBytes(RepositoryPaths.SharedTestData("kube-envelope", "kmsv2-hkdf-seed.bin"));
        Assert.Equal(EtcdValueError.NotPluginCiphertext, Assert.Throws<EtcdValueException>(() => PluginKeyIdReader.Read(v2)).Error);
    }

    [Theory]
    [InlineData("plain text secret")]
    [InlineData("k8s:enc:aescbc:v1:key1:xxxx")]
    [InlineData("k8s:enc:kms:v1:ibm:\u0000")]
    public void Values_that_are_not_well_formed_kms_values_are_malformed(string value)
    {
        var e = Assert.Throws<EtcdValueException>(() => PluginKeyIdReader.Read(Encoding.UTF8.GetBytes(value)));
        Assert.Equal(EtcdValueError.Malformed, e.Error);
    }

    /// <summary>A kms-plugin ciphertext of a 32-byte DEK: header by the plugin's format, random body.</summary>
    private static byte[] PluginCiphertext(string rootKeyId)
    {
        var header = EnvelopeFormat.BuildHeader(EnvelopeFormat.BuildWrapContext(rootKeyId), RandomNumberGenerator.GetBytes(60));
        return [.. header, .. RandomNumberGenerator.GetBytes(EnvelopeFormat.NonceSize + 32 + EnvelopeFormat.TagSize)];
    }
}
