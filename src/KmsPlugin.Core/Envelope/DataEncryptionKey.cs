using System.Security.Cryptography;
using KmsPlugin.Core.Crypto;

namespace KmsPlugin.Core.Envelope;

/// <summary>
/// An unwrapped AES-256 plugin DEK. <see cref="AesGcm"/> instances are reused through an
/// <see cref="AesGcmPool"/>. Lifetime is reference counted:
/// the cache and the current-DEK slot each hold a reference, every operation takes one, and the
/// key bytes are zeroed when the last reference goes.
/// </summary>
internal sealed class DataEncryptionKey
{
    public const int KeySize = 32;

    private readonly byte[] _key;
    private readonly AesGcmPool _pool;
    private int _references = 1;

    /// <summary>Takes ownership of <paramref name="key"/>; the caller must not keep using it.</summary>
    public DataEncryptionKey(byte[] key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException("a data key is 32 bytes", nameof(key));
        }

        _key = key;
        _pool = new AesGcmPool(key, Math.Max(2, Environment.ProcessorCount * 2));
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

        _pool.Dispose();
        CryptographicOperations.ZeroMemory(_key);
    }

    /// <summary>Caller must hold a reference. Writes nonce | ciphertext | tag (see <see cref="AesGcmSealer"/>) into <paramref name="destination"/>.</summary>
    public void Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> destination)
    {
        var gcm = _pool.Rent();
        try
        {
            AesGcmSealer.Seal(gcm, plaintext, associatedData, destination);
        }
        finally
        {
            _pool.Return(gcm);
        }
    }

    /// <summary>Caller must hold a reference. Returns false (and zeroes the output) when not authentic.</summary>
    public bool TryOpen(ReadOnlySpan<byte> sealedMessage, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        var gcm = _pool.Rent();
        try
        {
            return AesGcmSealer.TryOpen(gcm, sealedMessage, associatedData, plaintext);
        }
        finally
        {
            _pool.Return(gcm);
        }
    }
}
