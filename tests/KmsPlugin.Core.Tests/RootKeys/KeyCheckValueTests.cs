using System.Security.Cryptography;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;
using static KmsPlugin.Core.Tests.Keystore.KeystoreTestData;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Core.Tests.RootKeys;

public sealed class KeyCheckValueTests
{
    // Computed outside .NET with pyca/cryptography (OpenSSL):
    // AESGCM(key).encrypt(bytes(12), b"", b"kms-plugin root key check value v1")[:8].hex()
    [Theory]
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "e6f89dbede280582")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "f5d5c9b4d9e481b8")]
    public void Matches_known_answers_from_another_implementation(string keyHex, string expected) =>
        Assert.Equal(expected, KeyCheckValue.Compute(Convert.FromHexString(keyHex)));

    [Fact]
    public void Equals_bouncy_castles_gmac_of_the_label_truncated_to_eight_bytes()
    {
        for (var i = 0; i < 20; i++)
        {
            var key = RandomNumberGenerator.GetBytes(32);
            var gcm = new GcmBlockCipher(new AesEngine());
            gcm.Init(true, new AeadParameters(new KeyParameter(key), 128, new byte[12], "kms-plugin root key check value v1"u8.ToArray()));
            var tag = new byte[16];
            Assert.Equal(16, gcm.DoFinal(tag, 0));

            Assert.Equal(Convert.ToHexStringLower(tag[..8]), KeyCheckValue.Compute(key));
        }
    }

    [Fact]
    public void A_tag_of_the_wrong_length_is_refused()
    {
        Assert.Throws<ArgumentException>(() => KeyCheckValue.FromTag(new byte[15]));
        Assert.Equal("0001020304050607", KeyCheckValue.FromTag(Enumerable.Range(0, 16).Select(b => (byte)b).ToArray()));
    }

    [Fact]
    public void The_software_provider_describes_every_key_with_the_check_value_of_its_material()
    {
        using var temp = new TempDirectory();
        var path = temp.File("ks.json");
        using (var keystore = KeystoreFile.Create(path, Passphrase, Options(TimeProvider.System), primaryExpiresAt: DateTimeOffset.UtcNow.AddDays(90)))
        {
            var second = keystore.AddKey();
            keystore.Promote(second.Id);
            var third = keystore.AddKey();
            keystore.Retire(third.Id);
        }

        using var loaded = KeystoreFile.Load(path, Passphrase, Options(TimeProvider.System));
        var expected = loaded.WithRing(ring => ring.Entries.Select(e => (e.Id, e.State, Kcv: KeyCheckValue.Compute(e.Material), e.Info.ExpiresAt)).ToList());
        using var provider = new KeystoreRootKeyProvider(loaded);

        var described = provider.DescribeKeys();
        Assert.Equal(expected.Select(e => (e.Id, e.State, e.Kcv, e.ExpiresAt)), described.Select(d => (d.Id, d.State, d.CheckValue, d.ExpiresAt)));
        Assert.Equal([KeyState.DecryptOnly, KeyState.Primary, KeyState.Disabled], described.Select(d => d.State));
        Assert.Equal([null, 2L, null], described.Select(d => d.Generation));
        Assert.NotNull(described[0].ExpiresAt);
        Assert.Equal(3, described.Select(d => d.CheckValue).Distinct().Count());
        Assert.All(described, d => Assert.Matches("^[0-9a-f]{16}$", d.CheckValue));
    }
}
