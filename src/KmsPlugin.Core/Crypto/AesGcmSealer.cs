using System.Security.Cryptography;

namespace KmsPlugin.Core.Crypto;

/// <summary>
/// The one AES-GCM layout used across the plugin: <c>nonce (12, random) | ciphertext | tag (16)</c>.
/// Keeping it in one place means the Wycheproof vectors exercise exactly the code that protects keys.
/// </summary>
internal static class AesGcmSealer
{
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int Overhead = NonceSize + TagSize;

    /// <summary>Seals under a one-off key (any size <see cref="AesGcm"/> accepts).</summary>
    public static byte[] Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        using var aes = new AesGcm(key, TagSize);
        return Seal(aes, plaintext, associatedData);
    }

    /// <summary>Seals with a fresh random nonce. <paramref name="aes"/> must be created with a 16-byte tag.</summary>
    public static byte[] Seal(AesGcm aes, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var output = new byte[Overhead + plaintext.Length];
        Seal(aes, plaintext, associatedData, output);
        return output;
    }

    /// <summary>Seals into <paramref name="destination"/>, exactly <see cref="Overhead"/> + plaintext long, with a fresh random nonce.</summary>
    public static void Seal(AesGcm aes, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> destination)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        RandomNumberGenerator.Fill(nonce);
        Seal(aes, nonce, plaintext, associatedData, destination);
    }

    /// <summary>
    /// Seals with a caller-chosen nonce. Only for known-answer tests: reusing a nonce under one key
    /// breaks GCM, so production code goes through the random-nonce overloads.
    /// </summary>
    internal static void Seal(AesGcm aes, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> destination)
    {
        if (nonce.Length != NonceSize)
        {
            throw new ArgumentException($"nonce must be {NonceSize} bytes", nameof(nonce));
        }

        if (destination.Length != Overhead + plaintext.Length)
        {
            throw new ArgumentException("destination must be exactly nonce + plaintext + tag long", nameof(destination));
        }

        nonce.CopyTo(destination);
        var ciphertext = destination.Slice(NonceSize, plaintext.Length);
        var tag = destination.Slice(NonceSize + plaintext.Length, TagSize);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
    }

    /// <summary>The plaintext length of a sealed message, or -1 when it is too short to be one.</summary>
    public static int PlaintextLength(int sealedLength) => sealedLength < Overhead ? -1 : sealedLength - Overhead;

    /// <summary>Opens under a one-off key. See <see cref="TryOpen(AesGcm, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>.</summary>
    public static bool TryOpen(ReadOnlySpan<byte> key, ReadOnlySpan<byte> sealedMessage, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        using var aes = new AesGcm(key, TagSize);
        return TryOpen(aes, sealedMessage, associatedData, plaintext);
    }

    /// <summary>
    /// Opens <paramref name="sealedMessage"/> into <paramref name="plaintext"/>, which must be exactly
    /// <see cref="PlaintextLength"/> bytes. Returns false, with <paramref name="plaintext"/> zeroed,
    /// when the message is truncated or not authentic.
    /// </summary>
    public static bool TryOpen(AesGcm aes, ReadOnlySpan<byte> sealedMessage, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        var length = PlaintextLength(sealedMessage.Length);
        if (length < 0)
        {
            return false;
        }

        if (plaintext.Length != length)
        {
            throw new ArgumentException("plaintext buffer must be exactly the sealed length minus nonce and tag", nameof(plaintext));
        }

        var nonce = sealedMessage[..NonceSize];
        var ciphertext = sealedMessage.Slice(NonceSize, length);
        var tag = sealedMessage.Slice(NonceSize + length, TagSize);
        try
        {
            aes.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            // .NET already zeroes the destination on a tag mismatch; done again so the contract does not depend on it.
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }
    }
}
