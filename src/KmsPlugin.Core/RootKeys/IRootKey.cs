namespace KmsPlugin.Core.RootKeys;

/// <summary>
/// One root key (root key). The key material stays inside the implementation (a keystore type or an
/// HSM); callers only ever see wrapped DEKs.
/// </summary>
public interface IRootKey
{
    /// <summary>Stable, non-secret id, unique for the life of the key ring. ASCII, at most 255 bytes.</summary>
    string Id { get; }

    /// <summary>
    /// Wraps <paramref name="dataKey"/> so that unwrapping succeeds only with the same
    /// <paramref name="context"/> (bound as AAD).
    /// </summary>
    ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, ReadOnlyMemory<byte> context, CancellationToken cancellationToken);

    /// <summary>
    /// Unwraps into <paramref name="destination"/>, which the caller owns and zeroes.
    /// Returns the number of bytes written. Throws <see cref="Errors.KmsException"/> with
    /// <see cref="Errors.KmsErrorKind.InvalidCiphertext"/> when the wrapped key is not authentic.
    /// </summary>
    ValueTask<int> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, ReadOnlyMemory<byte> context, Memory<byte> destination, CancellationToken cancellationToken);
}
