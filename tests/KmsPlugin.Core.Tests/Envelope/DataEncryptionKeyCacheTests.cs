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
    public void The_last_entry_found_is_never_served_once_evicted_even_while_an_operation_still_holds_it()
    {
        using var cache = new DataEncryptionKeyCache(capacity: 1);
        var first = RandomNumberGenerator.GetBytes(60);
        AddReleased(cache, first);
        var held = cache.TryAcquire(first)!;

        AddReleased(cache, RandomNumberGenerator.GetBytes(60));

        Assert.Null(cache.TryAcquire(first));
        Assert.False(held.Key.IsZeroed);
        held.Key.Release();
        Assert.True(held.Key.IsZeroed);

        AddReleased(cache, first);
        var again = cache.TryAcquire(first);
        Assert.NotNull(again);
        Assert.NotSame(held, again);
        again.Key.Release();
    }

    [Fact]
    public void When_every_entry_was_used_the_oldest_insertion_goes_first_and_the_rest_stay()
    {
        using var cache = new DataEncryptionKeyCache(capacity: 3);
        var wrapped = Enumerable.Range(0, 3).Select(_ => RandomNumberGenerator.GetBytes(60)).ToArray();
        foreach (var w in wrapped)
        {
            AddReleased(cache, w);
        }

        foreach (var w in wrapped)
        {
            cache.TryAcquire(w)!.Key.Release();
        }

        var newest = RandomNumberGenerator.GetBytes(60);
        AddReleased(cache, newest);

        Assert.Equal(3, cache.Count);
        Assert.Null(cache.TryAcquire(wrapped[0]));
        foreach (var kept in new[] { wrapped[1], wrapped[2], newest })
        {
            var entry = cache.TryAcquire(kept);
            Assert.NotNull(entry);
            entry.Key.Release();
        }
    }

    [Fact]
    public void A_long_run_of_misses_keeps_the_cache_at_capacity_and_evicts_each_overflow_once()
    {
        using var cache = new DataEncryptionKeyCache(capacity: 100);
        var hot = RandomNumberGenerator.GetBytes(60);
        AddReleased(cache, hot);
        for (var i = 0; i < 10_000; i++)
        {
            AddReleased(cache, RandomNumberGenerator.GetBytes(60));
            if (i % 10 == 0)
            {
                cache.TryAcquire(hot)!.Key.Release();
            }
        }

        Assert.Equal(100, cache.Count);
        Assert.Equal(10_001 - 100, cache.Evictions);
        Assert.NotNull(cache.TryAcquire(hot));
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

        inUse.Key.Seal(new byte[4], default, new byte[4 + 28]);
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
