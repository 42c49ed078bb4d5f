using System.Security.Cryptography;
using KmsPlugin.Core.Crypto;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// A software root key (root key): wraps DEKs with AES-256-GCM, wrapped = nonce (12) | ciphertext | tag (16),
/// with the caller's context as AAD.
/// </summary>
internal sealed class KeystoreRootKey : IRootKey, IDisposable
{
    public const int KeySize = 32;

    private readonly byte[] _material;
    private readonly AesGcmPool _pool;
    private volatile bool _disposed;

    public KeystoreRootKey(string id, ReadOnlySpan<byte> keyMaterial)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (keyMaterial.Length != KeySize)
        {
            throw new ArgumentException($"root key material must be {KeySize} bytes", nameof(keyMaterial));
        }

        Id = id;
        _material = GC.AllocateArray<byte>(KeySize, pinned: true);
        keyMaterial.CopyTo(_material);
        _pool = new AesGcmPool(_material, Math.Max(2, Environment.ProcessorCount));
        CheckValue = KeyCheckValue.Compute(_material);
    }

    public string Id { get; }

    /// <summary>The <see cref="KeyCheckValue"/>, computed once here.</summary>
    public string CheckValue { get; }

    public ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, ReadOnlyMemory<byte> context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed, this);
        var aes = _pool.Rent();
        try
        {
            return ValueTask.FromResult(AesGcmSealer.Seal(aes, dataKey.Span, context.Span));
        }
        finally
        {
            _pool.Return(aes);
        }
    }

    public ValueTask<int> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, ReadOnlyMemory<byte> context, Memory<byte> destination, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var length = AesGcmSealer.PlaintextLength(wrappedKey.Length);
        if (length < 0)
        {
            throw KmsException.CiphertextRejected("wrapped key is truncated");
        }

        if (destination.Length < length)
        {
            throw new ArgumentException($"destination holds {destination.Length} bytes, the wrapped key needs {length}", nameof(destination));
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        var aes = _pool.Rent();
        try
        {
            if (!AesGcmSealer.TryOpen(aes, wrappedKey.Span, context.Span, destination.Span[..length]))
            {
                throw KmsException.CiphertextRejected("authentication failed");
            }
        }
        finally
        {
            _pool.Return(aes);
        }

        return ValueTask.FromResult(length);
    }

    /// <summary>True when <paramref name="other"/> is the same key material, compared in constant time.</summary>
    internal bool HasMaterial(ReadOnlySpan<byte> other)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return CryptographicOperations.FixedTimeEquals(_material, other);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _pool.Dispose();
        CryptographicOperations.ZeroMemory(_material);
    }
}
