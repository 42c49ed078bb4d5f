using System.Text;

namespace KmsPlugin.EtcdValues.Tests;

/// <summary>
/// KMS v1 values with the AES-CBC payload kube-apiserver ≤ 1.24 wrote. No upstream vector exists,
/// so these values are constructed here with .NET's AES-CBC and PKCS#7 padding.
/// </summary>
public sealed class LegacyCbcTests
{
    private static readonly byte[] Dek = Enumerable.Range(0x40, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] EncryptedDek = Encoding.ASCII.GetBytes(Convert.ToBase64String(Dek));
    private static readonly byte[] EtcdKey = "/registry/secrets/default/legacy"u8.ToArray();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(142)]
    public void Cbc_value_round_trips_through_the_gcm_then_cbc_read(int plaintextLength)
    {
        var plaintext = Enumerable.Range(0, plaintextLength).Select(i => (byte)(i * 7)).ToArray();
        var value = KmsV1Envelope.SealLegacyCbc("ibm", EncryptedDek, Dek, plaintext);

        var parsed = KmsV1Envelope.Parse(value);
        Assert.Equal(EncryptedDek, parsed.EncryptedDek.ToArray());
        Assert.Equal(0, (parsed.Payload.Length - AesCbcData.BlockSize) % AesCbcData.BlockSize);
        var opened = KmsV1Envelope.Open(parsed, Dek, EtcdKey);
        Assert.Equal(KmsV1PayloadCipher.AesCbc, opened.Cipher);
        Assert.Equal(plaintext, opened.Plaintext);
    }

    [Fact]
    public void Cbc_has_no_aad_so_any_etcd_key_reads_it_as_in_kube_apiserver()
    {
        var value = KmsV1Envelope.SealLegacyCbc("ibm", EncryptedDek, Dek, "secret"u8);
        var opened = KmsV1Envelope.Open(KmsV1Envelope.Parse(value), Dek, "/registry/secrets/other/name"u8);
        Assert.Equal("secret"u8.ToArray(), opened.Plaintext);
    }

    [Fact]
    public void Known_answer_with_a_fixed_iv_matches_aes_cbc_pkcs7()
    {
        // One block of PKCS#7 padding (16 x 0x10) after a 16-byte plaintext: the output is IV plus two blocks.
        var iv = new byte[16];
        var sealedData = AesCbcData.Seal(Dek, iv, new byte[16]);
        Assert.Equal(48, sealedData.Length);
        Assert.Equal(iv, sealedData[..16]);
        Assert.Equal(new byte[16], AesCbcData.Open(Dek, sealedData));
    }

    [Fact]
    public void Wrong_dek_fails_both_ciphers()
    {
        // Fixed IV and plaintext so the outcome is deterministic: with a wrong key Go's padding check
        // passes by chance about 1 time in 256, and this fixed value is one where it does not.
        byte[] value = [.. EtcdValuePrefix.KmsV1("ibm"), 0, (byte)EncryptedDek.Length, .. EncryptedDek, .. AesCbcData.Seal(Dek, new byte[16], new byte[40])];
        var wrong = (byte[])Dek.Clone();
        wrong[0] ^= 1;

        var e = Assert.Throws<EtcdValueException>(() => KmsV1Envelope.Open(KmsV1Envelope.Parse(value), wrong, EtcdKey));
        Assert.Equal(EtcdValueError.AuthenticationFailed, e.Error);
        Assert.Equal(new byte[40], KmsV1Envelope.Open(KmsV1Envelope.Parse(value), Dek, EtcdKey).Plaintext);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(40)]
    public void Payload_that_is_not_iv_plus_whole_blocks_and_not_gcm_is_rejected(int length)
    {
        var payload = new byte[length];
        var e = Assert.Throws<EtcdValueException>(() => KmsV1Envelope.Open(new KmsV1Value("ibm", EncryptedDek, payload), Dek, EtcdKey));
        Assert.Equal(EtcdValueError.AuthenticationFailed, e.Error);
    }

    [Fact]
    public void Padding_is_checked_as_go_does()
    {
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = Dek;
        var iv = new byte[16];
        byte[] Raw(params byte[] block) => [.. iv, .. aes.EncryptCbc(block, iv, System.Security.Cryptography.PaddingMode.None)];

        var zeroPad = new byte[16];
        Assert.Equal(EtcdValueError.AuthenticationFailed, Assert.Throws<EtcdValueException>(() => AesCbcData.Open(Dek, Raw(zeroPad))).Error);

        var mixed = Enumerable.Repeat((byte)3, 16).ToArray();
        mixed[14] = 2;
        Assert.Equal(EtcdValueError.AuthenticationFailed, Assert.Throws<EtcdValueException>(() => AesCbcData.Open(Dek, Raw(mixed))).Error);

        // A whole block of 0x10 is valid padding around an empty plaintext.
        Assert.Empty(AesCbcData.Open(Dek, Raw(Enumerable.Repeat((byte)16, 16).ToArray())));
    }
}
