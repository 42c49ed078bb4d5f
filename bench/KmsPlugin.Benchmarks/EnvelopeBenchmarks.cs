using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using KmsPlugin.Core.Envelope;
using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Benchmarks;

/// <summary>
/// The envelope hot path against its floor: one AES-256-GCM seal/open of the same size with a
/// reused <see cref="AesGcm"/>, output allocated the same way. Decrypt is with a cached DEK. The
/// format authenticates the envelope's header as associated data, so Decrypt has a second floor:
/// the raw open with that header as AAD, which no change to the plugin's code can go below.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
public class EnvelopeBenchmarks
{
    private readonly AesGcm _raw = new(RandomNumberGenerator.GetBytes(32), 16);
    private EnvelopeEncryptor _encryptor = null!;
    private KeystoreRootKeyProvider _provider = null!;
    private byte[] _plaintext = [];
    private byte[] _rawSealed = [];
    private byte[] _rawSealedWithHeader = [];
    private byte[] _header = [];
    private byte[] _envelope = [];

    [Params(32, 1024, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = KeystoreRootKeyProvider.CreateDevelopment();
        _encryptor = new EnvelopeEncryptor(_provider, new EnvelopeOptions(), TimeProvider.System);
        _plaintext = RandomNumberGenerator.GetBytes(Size);
        _rawSealed = RawSeal();
        _envelope = _encryptor.EncryptAsync(_plaintext, default).AsTask().GetAwaiter().GetResult().Ciphertext;
        _header = EnvelopeFormat.Parse(_envelope).Header.ToArray();
        _rawSealedWithHeader = new byte[12 + Size + 16];
        _raw.Encrypt(_rawSealedWithHeader.AsSpan(0, 12), _plaintext, _rawSealedWithHeader.AsSpan(12, Size), _rawSealedWithHeader.AsSpan(12 + Size), _header);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encryptor.Dispose();
        _provider.Dispose();
        _raw.Dispose();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Encrypt")]
    public byte[] RawAesGcmSeal() => RawSeal();

    [Benchmark]
    [BenchmarkCategory("Encrypt")]
    public byte[] EnvelopeEncrypt() => _encryptor.EncryptAsync(_plaintext, default).Result.Ciphertext;

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Decrypt")]
    public byte[] RawAesGcmOpen()
    {
        var output = new byte[Size];
        _raw.Decrypt(_rawSealed.AsSpan(0, 12), _rawSealed.AsSpan(12, Size), _rawSealed.AsSpan(12 + Size), output);
        return output;
    }

    [Benchmark]
    [BenchmarkCategory("Decrypt")]
    public byte[] RawAesGcmOpenWithHeaderAad()
    {
        var output = new byte[Size];
        _raw.Decrypt(_rawSealedWithHeader.AsSpan(0, 12), _rawSealedWithHeader.AsSpan(12, Size), _rawSealedWithHeader.AsSpan(12 + Size), output, _header);
        return output;
    }

    [Benchmark]
    [BenchmarkCategory("Decrypt")]
    public byte[] EnvelopeDecryptCached() => _encryptor.DecryptAsync(_envelope, default).Result;

    private byte[] RawSeal()
    {
        var output = new byte[12 + Size + 16];
        RandomNumberGenerator.Fill(output.AsSpan(0, 12));
        _raw.Encrypt(output.AsSpan(0, 12), _plaintext, output.AsSpan(12, Size), output.AsSpan(12 + Size));
        return output;
    }
}
