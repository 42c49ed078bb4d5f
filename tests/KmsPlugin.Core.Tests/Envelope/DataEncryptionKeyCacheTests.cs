using System.Security.Cryptography;
using KmsPlugin.Core.Envelope;

namespace KmsPlugin.Core.Tests.Envelope;

public sealed class DataEncryptionKeyCacheTests
{
    [Fact]
    public void Cache_never_holds_more_than_its_capacity_and_zeroes_what_it_evicts()
    {
        using var cache = new DataEncryptionKeyCache(capacity: 3);
        var keys = new List<DataEncryptionKey>();
        for (var i = 0; i < 10; i++)
        {
            var key = DataEncryptionKey.Generate();
            keys.Add(key);
            cache.Add(RandomNumberGenerator.GetBytes(60), "kek", key);
            key.Release();
            Assert.True(cache.Count <= 3);
        }

        Assert.Equal(7, cache.Evictions);
        Assert.Equal(7, keys.Count(k => k.IsZeroed));
    }

    [Fact]
    public async Task Least_recently_used_entry_goes_first()
    {
        using var cache = new DataEncryptionKeyCache(capacity: 2);
        var a = RandomNumberGenerator.GetBytes(60);
        var b = RandomNumberGenerator.GetBytes(60);
        AddReleased(cache, a);
        await Task.Delay(20);
        AddReleased(cache, b);
        await Task.Delay(20);
        cache.TryAcquire(a)!.Key.Release();
        await Task.Delay(20);

        AddReleased(cache, RandomNumberGenerator.GetBytes(60));

        Assert.NotNull(cache.TryAcquire(a));
        Assert.Null(cache.TryAcquire(b));
    }

    [Fact]
    public void An_evicted_key_in_use_is_zeroed_only_when_its_last_user_lets_go()
    {
        using var cache = new DataEncryptionKeyCache(capacity: 1);
        var wrapped = RandomNumberGenerator.GetBytes(60);
        var key = DataEncryptionKey.Generate();
        cache.Add(wrapped, "kek", key);
        key.Release();
        var inUse = cache.TryAcquire(wrapped)!;

        AddReleased(cache, RandomNumberGenerator.GetBytes(60));
        Assert.False(inUse.Key.IsZeroed);

        var tag = new byte[16];
        inUse.Key.Seal(new byte[12], new byte[4], new byte[4], tag, default);
        inUse.Key.Release();
        Assert.True(inUse.Key.IsZeroed);
        Assert.False(inUse.Key.TryAcquire());
    }

    private static void AddReleased(DataEncryptionKeyCache cache, byte[] wrapped)
    {
        var key = DataEncryptionKey.Generate();
        cache.Add(wrapped, "kek", key);
        key.Release();
    }
}
