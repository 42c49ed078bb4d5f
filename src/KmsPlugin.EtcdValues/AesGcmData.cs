using System.Security.Cryptography;
using KmsPlugin.Core.Crypto;

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
    public const int NonceSize = AesGcmSealer.NonceSize;
    public const int TagSize = AesGcmSealer.TagSize;
    public const int Overhead = AesGcmSealer.Overhead;

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
        using var aes = new AesGcm(key, TagSize);
        AesGcmSealer.Seal(aes, nonce, plaintext, aad, destination);
    }

    public static byte[] Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> aad)
    {
        RequireAesKey(key);
        if (data.Length < Overhead)
        {
            throw EtcdValueException.Malformed($"AES-GCM data is {data.Length} bytes, shorter than nonce and tag ({Overhead})");
        }

        var plaintext = new byte[AesGcmSealer.PlaintextLength(data.Length)];
        if (!AesGcmSealer.TryOpen(key, data, aad, plaintext))
        {
            throw EtcdValueException.AuthenticationFailed("AES-GCM authentication failed (wrong key, wrong etcd key or tampered data)");
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
