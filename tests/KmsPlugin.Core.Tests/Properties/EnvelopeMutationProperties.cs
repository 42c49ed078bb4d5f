using System.Security.Cryptography;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Tests.Shared.Properties;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Core.Tests.Properties;

/// <summary>
/// Mutated plugin ciphertexts through the real decrypt path (software root keys, DEK cache, unwrap):
/// every one is refused with the documented <see cref="KmsException"/>, none ever yields plaintext,
/// and the valid ciphertexts still open afterwards.
/// </summary>
public sealed class EnvelopeMutationProperties : IDisposable
{
    private const int Cases = 100_000;

    private readonly KeystoreRootKeyProvider _provider;
    private readonly KeystoreRootKeyProvider _foreign = KeystoreRootKeyProvider.CreateDevelopment();
    private readonly List<(byte[] Plaintext, byte[] Ciphertext)> _valid = [];

    public EnvelopeMutationProperties()
    {
        // Two root keys in one ring, so headers can be spliced between keys as well as between DEKs.
        using var keystore = KeystoreFile.CreateInMemory();
        var second = keystore.AddKey();
        _provider = new KeystoreRootKeyProvider(keystore);
        SealSamples(_provider);
        SealSamples(_provider);
        keystore.Promote(second.Id);
        _provider.Reload(keystore);
        SealSamples(_provider);
        SealSamples(_foreign);
    }

    public void Dispose()
    {
        _provider.Dispose();
        _foreign.Dispose();
    }

    [Fact]
    public async Task Mutated_ciphertexts_are_refused_with_the_documented_error_and_never_open()
    {
        using var encryptor = new EnvelopeEncryptor(_provider, new EnvelopeOptions(), TimeProvider.System);
        var valid = _valid.Select(v => v.Ciphertext).ToArray();
        var mutants = ByteMutations.Of(valid, c => EnvelopeFormat.Parse(c).Header.Length);
        var kinds = new Dictionary<KmsErrorKind, int>();

        FixedSeedProperty.Check(mutants, mutant =>
        {
            var error = Assert.Throws<KmsException>(() => encryptor.DecryptAsync(mutant.Bytes, default).AsTask().GetAwaiter().GetResult());
            Assert.True(error.Kind is KmsErrorKind.InvalidCiphertext or KmsErrorKind.KeyUnavailable, $"{error.Kind}: {error.Message}");
            kinds[error.Kind] = kinds.GetValueOrDefault(error.Kind) + 1;
        }, Cases, m => m.ToString());

        // Both documented kinds were reached: the mutations got past the parser to the key lookup.
        Assert.True(kinds.GetValueOrDefault(KmsErrorKind.InvalidCiphertext) > Cases / 2);
        Assert.True(kinds.GetValueOrDefault(KmsErrorKind.KeyUnavailable) > 0);

        foreach (var (plaintext, ciphertext) in _valid.Where(v => !IsForeign(v.Ciphertext)))
        {
            Assert.Equal(plaintext, await encryptor.DecryptAsync(ciphertext, default));
        }
    }

    private bool IsForeign(byte[] ciphertext) =>
        EnvelopeEncryptor.ReadRootKeyId(ciphertext) == _foreign.Primary.Key.Id;

    private void SealSamples(KeystoreRootKeyProvider provider)
    {
        // A new encryptor makes a new DEK, so each call adds ciphertexts under a different wrapped key.
        using var encryptor = new EnvelopeEncryptor(provider, new EnvelopeOptions(), TimeProvider.System);
        foreach (var size in new[] { 0, 1, 32, 100, 700 })
        {
            var plaintext = RandomNumberGenerator.GetBytes(size);
            _valid.Add((plaintext, encryptor.EncryptAsync(plaintext, default).AsTask().GetAwaiter().GetResult().Ciphertext));
        }
    }
}
