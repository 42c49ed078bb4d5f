using System.Security.Cryptography;

namespace KmsPlugin.Core.Envelope;

/// <summary>
/// An unwrapped AES-256 plugin DEK. <see cref="AesGcm"/> instances are reused through a small
/// pool, and one instance is never used by two calls at once. Lifetime is reference counted:
/// the cache and the current-DEK slot each hold a reference, every operation takes one, and the
/// key bytes are zeroed when the last reference goes.
/// </summary>
internal sealed class DataEncryptionKey
{
    public const int KeySize = 32;

    private readonly byte[] _key;
    private readonly AesGcm?[] _pool;
    private int _references = 1;

    /// <summary>Takes ownership of <paramref name="key"/>; the caller must not keep using it.</summary>
    public DataEncryptionKey(byte[] key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException("a data key is 32 bytes", nameof(key));
        }

        _key = key;
        _pool = new AesGcm?[Math.Max(2, Environment.ProcessorCount * 2)];
    }

    public static DataEncryptionKey Generate() => new(RandomNumberGenerator.GetBytes(KeySize));

    /// <summary>True once the last reference is gone and the key bytes are overwritten.</summary>
    public bool IsZeroed => Volatile.Read(ref _references) == 0 && !_key.AsSpan().ContainsAnyExcept((byte)0);

    /// <summary>Adds a reference; false when the key is already released.</summary>
    public bool TryAcquire()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0)
        {
            return;
        }

        CryptographicOperations.ZeroMemory(_key);
        for (var i = 0; i < _pool.Length; i++)
        {
            Interlocked.Exchange(ref _pool[i], null)?.Dispose();
        }
    }

    /// <summary>Caller must hold a reference.</summary>
    public void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        var gcm = Rent();
        try
        {
            gcm.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
        finally
        {
            Return(gcm);
        }
    }

    /// <summary>Caller must hold a reference. Returns false (and zeroes the output) when not authentic.</summary>
    public bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var gcm = Rent();
        try
        {
            gcm.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }
        finally
        {
            Return(gcm);
        }
    }

    private AesGcm Rent()
    {
        for (var i = 0; i < _pool.Length; i++)
        {
            var gcm = Interlocked.Exchange(ref _pool[i], null);
            if (gcm is not null)
            {
                return gcm;
            }
        }

        return new AesGcm(_key, EnvelopeFormat.TagSize);
    }

    private void Return(AesGcm gcm)
    {
        if (Volatile.Read(ref _references) > 0)
        {
            for (var i = 0; i < _pool.Length; i++)
            {
                if (Interlocked.CompareExchange(ref _pool[i], gcm, null) is null)
                {
                    // Release may have emptied the pool between our check and the store.
                    if (Volatile.Read(ref _references) == 0 && Interlocked.Exchange(ref _pool[i], null) is { } late)
                    {
                        late.Dispose();
                    }

                    return;
                }
            }
        }

        gcm.Dispose();
    }
}
