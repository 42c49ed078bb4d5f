using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using KmsPlugin.Core.Envelope;

namespace KmsPlugin.Benchmarks;

/// <summary>
/// The DEK cache alone, without the root key: a hit (lookup by wrapped form, reference taken and
/// released) against a miss on a full cache (insert plus the least-recently-used eviction), with an
/// unwrap that only makes the key so the cache's own cost shows.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class DataKeyCacheBenchmarks
{
    private DataEncryptionKeyCache _cache = null!;
    private byte[][] _wrappedKeys = [];
    private byte[] _hitKey = [];
    private int _next;

    [Params(100, 1000)]
    public int Capacity { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _cache = new DataEncryptionKeyCache(Capacity);

        // Twice the capacity, visited in a cycle: least-recently-used drops each one before it comes round again.
        _wrappedKeys = Enumerable.Range(0, 2 * Capacity).Select(_ => RandomNumberGenerator.GetBytes(60)).ToArray();
        _hitKey = RandomNumberGenerator.GetBytes(60);
        _cache.Add(_hitKey, "bench", DataEncryptionKey.Generate());
        foreach (var wrapped in _wrappedKeys.Take(Capacity - 1))
        {
            _cache.Add(wrapped, "bench", DataEncryptionKey.Generate());
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _cache.Dispose();

    [Benchmark(Baseline = true)]
    public bool Hit()
    {
        var entry = _cache.TryAcquire(_hitKey)!;
        entry.Key.Release();
        return entry is not null;
    }

    [Benchmark]
    public bool MissOnFullCache()
    {
        var wrapped = _wrappedKeys[_next++ % _wrappedKeys.Length];
        var entry = _cache.AcquireOrUnwrapAsync(wrapped, "bench", static _ => ValueTask.FromResult(DataEncryptionKey.Generate()), default)
            .AsTask().GetAwaiter().GetResult();
        entry.Key.Release();

        // Keep the hit key the most recently used, so the hit benchmark's key is never the victim.
        _cache.TryAcquire(_hitKey)?.Key.Release();
        return entry is not null;
    }
}
