using System.Security.Cryptography;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Fuzz.Targets;

/// <summary>
/// Plugin ciphertexts through the real decrypt path. The root keys come from a keystore file in the
/// work directory, made by the seeds step, so seeds sealed in one process open in the fuzzer's.
/// Only <see cref="KmsException"/> (invalid ciphertext, unknown key) may escape, and nothing but a
/// seed may open.
/// </summary>
internal sealed class EnvelopeTarget : IFuzzTarget, IDisposable
{
    private readonly string _keystorePath;
    private readonly Lazy<(KeystoreRootKeyProvider Provider, EnvelopeEncryptor Encryptor, HashSet<string> Seeds)> _state;

    public EnvelopeTarget(string workDirectory)
    {
        _keystorePath = Path.Combine(workDirectory, "envelope-keystore.json");
        _state = new(Open);
    }

    public string Name => "envelope";

    public IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        File.Delete(_keystorePath);
        var keystore = KeystoreFile.Create(_keystorePath, WorkKeystore.Passphrase, WorkKeystore.Options);
        var seeds = new List<(string, byte[])>();
        using (keystore)
        {
            var second = keystore.AddKey();
            using var provider = new KeystoreRootKeyProvider(keystore);
            Seal(provider, "first-key", seeds);
            keystore.Promote(second.Id);
            provider.Reload(keystore);
            Seal(provider, "second-key", seeds);
        }

        File.WriteAllLines(_keystorePath + ".seeds", seeds.Select(s => Convert.ToHexString(s.Item2)));
        return seeds;
    }

    public void Run(byte[] input)
    {
        var (_, encryptor, seeds) = _state.Value;
        try
        {
            encryptor.DecryptAsync(input, default).AsTask().GetAwaiter().GetResult();
        }
        catch (KmsException e) when (e.Kind is KmsErrorKind.InvalidCiphertext or KmsErrorKind.KeyUnavailable)
        {
            return;
        }

        if (!seeds.Contains(Convert.ToHexString(input)))
        {
            throw new PropertyViolation("a ciphertext that is no seed opened");
        }
    }

    public void Dispose()
    {
        if (_state.IsValueCreated)
        {
            _state.Value.Encryptor.Dispose();
            _state.Value.Provider.Dispose();
        }
    }

    private static void Seal(KeystoreRootKeyProvider provider, string label, List<(string, byte[])> seeds)
    {
        using var encryptor = new EnvelopeEncryptor(provider, new EnvelopeOptions(), TimeProvider.System);
        foreach (var size in new[] { 0, 1, 32, 300 })
        {
            var ciphertext = encryptor.EncryptAsync(RandomNumberGenerator.GetBytes(size), default).AsTask().GetAwaiter().GetResult().Ciphertext;
            seeds.Add(($"{label}-{size}", ciphertext));
        }
    }

    private (KeystoreRootKeyProvider, EnvelopeEncryptor, HashSet<string>) Open()
    {
        using var keystore = KeystoreFile.Load(_keystorePath, WorkKeystore.Passphrase, WorkKeystore.Options);
        var provider = new KeystoreRootKeyProvider(keystore);
        var seeds = File.ReadAllLines(_keystorePath + ".seeds").ToHashSet(StringComparer.Ordinal);
        return (provider, new EnvelopeEncryptor(provider, new EnvelopeOptions(), TimeProvider.System), seeds);
    }
}
