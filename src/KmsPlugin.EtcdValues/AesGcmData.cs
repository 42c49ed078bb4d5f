using System.Security.Cryptography;

namespace KmsPlugin.EtcdValues;

/// <summary>
/// kube-apiserver's AES-GCM data layer (kubernetes/apiserver <c>pkg/storage/value/encrypt/aes/aes.go</c>),
/// "gcm-raw" in the test vectors; the AAD is the full etcd key:
/// <code>
/// 0          12                  end-16   end
/// | nonce 12 | ciphertext        | tag 16 |
/// </code>
/// </summary>
internal static class AesGcmData
{
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int Overhead = NonceSize + TagSize;

    public static byte[] Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        RandomNumberGenerator.Fill(nonce);
        return Seal(key, nonce, plaintext, aad);
    }

    /// <summary>Seals with a caller-chosen nonce: for known-answer tests only (a repeated nonce breaks GCM).</summary>
    internal static byte[] Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad)
    {
        var output = new byte[Overhead + plaintext.Length];
        SealInto(key, nonce, plaintext, aad, output);
        return output;
    }

    internal static void SealInto(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> destination)
    {
        RequireAesKey(key);
        if (nonce.Length != NonceSize)
        {
            throw new ArgumentException($"nonce must be {NonceSize} bytes", nameof(nonce));
        }

        nonce.CopyTo(destination);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, destination.Slice(NonceSize, plaintext.Length), destination.Slice(NonceSize + plaintext.Length, TagSize), aad);
    }

    public static byte[] Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> aad)
    {
        RequireAesKey(key);
        if (data.Length < Overhead)
        {
            throw EtcdValueException.Malformed($"AES-GCM data is {data.Length} bytes, shorter than nonce and tag ({Overhead})");
        }

        var ciphertext = data[NonceSize..^TagSize];
        var plaintext = new byte[ciphertext.Length];
        using var aes = new AesGcm(key, TagSize);
        try
        {
            aes.Decrypt(data[..NonceSize], ciphertext, data[^TagSize..], plaintext, aad);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw EtcdValueException.AuthenticationFailed("AES-GCM authentication failed (wrong key, wrong etcd key or tampered data)", e);
        }

        return plaintext;
    }

    /// <summary>AES keys are 16, 24 or 32 bytes, as Go's <c>aes.NewCipher</c> demands.</summary>
    public static void RequireAesKey(ReadOnlySpan<byte> key)
    {
        if (key.Length is not (16 or 24 or 32))
        {
            throw EtcdValueException.Invalid($"an AES key is 16, 24 or 32 bytes, not {key.Length}");
        }
    }
}
