using System.Collections.Concurrent;

namespace KmsPlugin.Core.Envelope;

/// <summary>
/// Bounded cache of unwrapped DEKs keyed by their wrapped form. A miss costs one root-key call;
/// concurrent misses for the same wrapped key share that call. Over capacity, an entry not used
/// since the eviction hand last passed it is dropped (CLOCK, an O(1) stand-in for least recently
/// used: a full scan per miss made a cold start with a full cache quadratic) and its key bytes are
/// zeroed once no operation holds it.
/// </summary>
internal sealed class DataEncryptionKeyCache : IDisposable
{
    private readonly ConcurrentDictionary<byte[], CachedDataKey> _entries = new(ByteSequenceComparer.Instance);
    private readonly ConcurrentDictionary<byte[], CachedDataKey>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;
    private readonly ConcurrentDictionary<byte[], Task<CachedDataKey>> _pending = new(ByteSequenceComparer.Instance);
    private readonly ConcurrentQueue<CachedDataKey> _clock = new();
    private readonly Lock _evictionLock = new();
    private CachedDataKey? _lastFound;
    private long _hits;
    private long _misses;
    private long _evictions;

    public DataEncryptionKeyCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Capacity { get; }

    public int Count => _entries.Count;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>On a hit, returns the entry with a reference taken on its key; the caller releases it.</summary>
    public CachedDataKey? TryAcquire(ReadOnlySpan<byte> wrappedKey)
    {
        var entry = AcquireLastFound(wrappedKey) ?? AcquireFromEntries(wrappedKey);
        if (entry is null)
        {
            return null;
        }

        entry.UsedSinceLastPass = true;
        Interlocked.Increment(ref _hits);
        return entry;
    }

    /// <summary>
    /// Returns the cached entry (reference taken) or runs <paramref name="unwrap"/> once for all
    /// concurrent callers asking for the same wrapped key. A failed unwrap is not cached.
    /// </summary>
    public async ValueTask<CachedDataKey> AcquireOrUnwrapAsync(
        ReadOnlyMemory<byte> wrappedKey,
        string rootKeyId,
        Func<byte[], ValueTask<DataEncryptionKey>> unwrap,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryAcquire(wrappedKey.Span) is { } hit)
            {
                return hit;
            }

            var key = wrappedKey.ToArray();
            var mine = new TaskCompletionSource<CachedDataKey>(TaskCreationOptions.RunContinuationsAsynchronously);
            var pending = _pending.GetOrAdd(key, mine.Task);
            if (pending == mine.Task)
            {
                Interlocked.Increment(ref _misses);
                _ = UnwrapIntoCacheAsync(key, rootKeyId, unwrap, mine);
            }

            var entry = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (entry.Key.TryAcquire())
            {
                return entry;
            }

            // Evicted and released between insertion and our acquire: look again.
        }
    }

    /// <summary>Inserts a freshly generated DEK; the cache takes its own reference.</summary>
    public void Add(byte[] wrappedKey, string rootKeyId, DataEncryptionKey key)
    {
        if (!key.TryAcquire())
        {
            throw new ObjectDisposedException(nameof(DataEncryptionKey));
        }

        Insert(new CachedDataKey(wrappedKey, rootKeyId, key));
    }

    public void Dispose()
    {
        Volatile.Write(ref _lastFound, null);
        foreach (var pair in _entries)
        {
            if (_entries.TryRemove(pair.Key, out var removed))
            {
                removed.Key.Release();
            }
        }
    }

    private async Task UnwrapIntoCacheAsync(byte[] wrappedKey, string rootKeyId, Func<byte[], ValueTask<DataEncryptionKey>> unwrap, TaskCompletionSource<CachedDataKey> completion)
    {
        try
        {
            var dataKey = await unwrap(wrappedKey).ConfigureAwait(false);
            completion.SetResult(Insert(new CachedDataKey(wrappedKey, rootKeyId, dataKey)));
        }
        catch (Exception ex)
        {
            completion.SetException(ex);
        }
        finally
        {
            _pending.TryRemove(new KeyValuePair<byte[], Task<CachedDataKey>>(wrappedKey, completion.Task));
        }
    }

    // Decrypts in a row mostly use the same data key; the last one found skips the hashing.
    private CachedDataKey? AcquireLastFound(ReadOnlySpan<byte> wrappedKey)
    {
        var last = Volatile.Read(ref _lastFound);
        return last is not null && wrappedKey.SequenceEqual(last.WrappedKey) && last.Key.TryAcquire() ? last : null;
    }

    private CachedDataKey? AcquireFromEntries(ReadOnlySpan<byte> wrappedKey)
    {
        if (!_bySpan.TryGetValue(wrappedKey, out var entry) || !entry.Key.TryAcquire())
        {
            return null;
        }

        Volatile.Write(ref _lastFound, entry);
        return entry;
    }

    private CachedDataKey Insert(CachedDataKey entry)
    {
        var stored = _entries.GetOrAdd(entry.WrappedKey, entry);
        if (ReferenceEquals(stored, entry))
        {
            _clock.Enqueue(entry);
        }
        else
        {
            entry.Key.Release();
        }

        if (_entries.Count > Capacity)
        {
            EvictOverflow(keep: stored);
        }

        return stored;
    }

    /// <param name="keep">The entry just inserted: never its own victim.</param>
    private void EvictOverflow(CachedDataKey keep)
    {
        lock (_evictionLock)
        {
            // Each pass clears the marks it skips, so two turns of the queue always find a victim;
            // the budget only guards against an entry another thread has yet to enqueue.
            var budget = (2 * _clock.Count) + 2;
            while (_entries.Count > Capacity && budget-- > 0 && _clock.TryDequeue(out var candidate))
            {
                if (ReferenceEquals(candidate, keep) || candidate.UsedSinceLastPass)
                {
                    candidate.UsedSinceLastPass = false;
                    _clock.Enqueue(candidate);
                    continue;
                }

                if (_entries.TryRemove(new KeyValuePair<byte[], CachedDataKey>(candidate.WrappedKey, candidate)))
                {
                    Interlocked.CompareExchange(ref _lastFound, null, candidate);
                    candidate.Key.Release();
                    Interlocked.Increment(ref _evictions);
                }
            }
        }
    }
}
