using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.RootKeys.Pkcs11;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;

namespace KmsPlugin.Benchmarks;

/// <summary>
/// Software keystore against a SoftHSM token, through the envelope engine: Encrypt with the
/// current DEK (no root-key call either way), Decrypt of an envelope whose DEK is not cached (one
/// unwrap through the root key each time), and the provider's raw unwrap (for PKCS#11: one
/// AES-GCM C_Decrypt in SoftHSM, the floor of a cold Decrypt).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RootKeyProviderBenchmarks
{
    private const int Envelopes = 256;
    private static readonly byte[] Context = "benchmark"u8.ToArray();

    private IRootKeyProvider _provider = null!;
    private EnvelopeEncryptor _warm = null!;
    private EnvelopeEncryptor _cold = null!;
    private byte[][] _envelopes = [];
    private byte[] _plaintext = [];
    private byte[] _wrapped = [];
    private readonly byte[] _unwrapped = new byte[64];
    private int _next;

    [Params("software", "pkcs11")]
    public string Provider { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _provider = Provider == "software"
            ? KeystoreRootKeyProvider.CreateDevelopment()
            : Pkcs11RootKeyProvider.Open(SoftHsm.CreateToken().WithKeys(true, "bench-root").Options("bench-root"));
        _plaintext = RandomNumberGenerator.GetBytes(32);
        _warm = new EnvelopeEncryptor(_provider, new EnvelopeOptions(), TimeProvider.System);
        _warm.EncryptAsync(_plaintext, default).AsTask().GetAwaiter().GetResult();

        // One DEK per envelope, and a cache of one: every Decrypt below misses.
        using var maker = new EnvelopeEncryptor(_provider, new EnvelopeOptions { Rotation = new DataEncryptionKeyRotationPolicy { MaxUses = 1 } }, TimeProvider.System);
        _envelopes = Enumerable.Range(0, Envelopes).Select(_ => maker.EncryptAsync(_plaintext, default).AsTask().GetAwaiter().GetResult().Ciphertext).ToArray();
        _cold = new EnvelopeEncryptor(_provider, new EnvelopeOptions { DataKeyCacheCapacity = 1 }, TimeProvider.System);
        _wrapped = _provider.Primary.Key.WrapAsync(RandomNumberGenerator.GetBytes(32), Context, default).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _warm.Dispose();
        _cold.Dispose();
        (_provider as IDisposable)?.Dispose();
    }

    [Benchmark]
    public byte[] EncryptWithCurrentDek() => _warm.EncryptAsync(_plaintext, default).AsTask().GetAwaiter().GetResult().Ciphertext;

    [Benchmark]
    public byte[] DecryptColdDek() => _cold.DecryptAsync(_envelopes[_next++ % Envelopes], default).AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public int RawProviderUnwrap() => _provider.Primary.Key.UnwrapAsync(_wrapped, Context, _unwrapped, default).AsTask().GetAwaiter().GetResult();
}
