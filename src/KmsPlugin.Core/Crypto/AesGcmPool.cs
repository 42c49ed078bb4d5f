using System.Security.Cryptography;

namespace KmsPlugin.Core.Crypto;

/// <summary>
/// <see cref="AesGcm"/> instances for one key. An instance is not safe for concurrent use, so
/// each call rents its own; a few are kept to avoid re-creating the OpenSSL context every call.
/// The owner zeroes the key bytes after <see cref="Dispose"/>, never before.
/// </summary>
internal sealed class AesGcmPool : IDisposable
{
    private readonly byte[] _key;
    private readonly AesGcm?[] _slots;
    private volatile bool _disposed;

    /// <summary>Reads <paramref name="key"/> each time it creates an instance; the caller keeps ownership.</summary>
    public AesGcmPool(byte[] key, int capacity)
    {
        _key = key;
        _slots = new AesGcm?[Math.Max(1, capacity)];
    }

    public AesGcm Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Interlocked.Exchange(ref _slots[i], null) is { } pooled)
            {
                return pooled;
            }
        }

        var created = new AesGcm(_key, AesGcmSealer.TagSize);

        // Dispose sets the flag before the owner zeroes the key; if that ran while the key was
        // being read, this instance may hold a zeroed key and must never be used.
        Interlocked.MemoryBarrier();
        if (_disposed)
        {
            created.Dispose();
            throw new ObjectDisposedException(GetType().FullName);
        }

        return created;
    }

    public void Return(AesGcm aes)
    {
        if (!_disposed)
        {
            for (var i = 0; i < _slots.Length; i++)
            {
                if (Interlocked.CompareExchange(ref _slots[i], aes, null) is null)
                {
                    // Dispose may have emptied the pool between the check and the store.
                    if (_disposed && Interlocked.Exchange(ref _slots[i], null) is { } late)
                    {
                        late.Dispose();
                    }

                    return;
                }
            }
        }

        aes.Dispose();
    }

    public void Dispose()
    {
        _disposed = true;
        for (var i = 0; i < _slots.Length; i++)
        {
            Interlocked.Exchange(ref _slots[i], null)?.Dispose();
        }
    }
}
