using System.Security.Cryptography;

namespace KmsPlugin.EtcdValues;

/// <summary>
/// kube-apiserver's extended-nonce layer for KMS v2 <c>HKDF_SHA256_XNONCE_AES_GCM_SEED</c>
/// (kubernetes/apiserver <c>pkg/storage/value/encrypt/aes/aes_extended_nonce.go</c>), "gcm-hkdf" in
/// the test vectors:
/// <code>
/// 0         32         44                  end-16   end
/// | info 32 | nonce 12 | ciphertext        | tag 16 |
///           |&lt;------ gcm-raw under HKDF-Expand(seed, info) ------&gt;|
/// </code>
/// The key is HKDF-Expand only (SHA-256, PRK = seed, info, L = 32): there is no Extract step.
/// </summary>
internal static class AesGcmHkdfData
{
    public const int InfoSize = 32;
    public const int KeySize = 32;

    /// <summary>kube-apiserver's <c>MinSeedSizeExtendedNonceGCM</c>.</summary>
    public const int MinSeedSize = 32;

    public static byte[] DeriveKey(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> info)
    {
        if (seed.Length < MinSeedSize)
        {
            throw EtcdValueException.Invalid($"an HKDF seed is at least {MinSeedSize} bytes, not {seed.Length}");
        }

        if (info.Length != InfoSize)
        {
            throw EtcdValueException.Malformed($"HKDF info is {InfoSize} bytes, not {info.Length}");
        }

        var key = new byte[KeySize];
        HKDF.Expand(HashAlgorithmName.SHA256, seed, key, info);
        return key;
    }

    public static byte[] Seal(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad)
    {
        Span<byte> info = stackalloc byte[InfoSize];
        Span<byte> nonce = stackalloc byte[AesGcmData.NonceSize];
        RandomNumberGenerator.Fill(info);
        RandomNumberGenerator.Fill(nonce);
        return Seal(seed, info, nonce, plaintext, aad);
    }

    /// <summary>Seals with caller-chosen info and nonce: for known-answer tests only.</summary>
    internal static byte[] Seal(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> info, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad)
    {
        var key = DeriveKey(seed, info);
        try
        {
            var output = new byte[InfoSize + AesGcmData.Overhead + plaintext.Length];
            info.CopyTo(output);
            AesGcmData.SealInto(key, nonce, plaintext, aad, output.AsSpan(InfoSize));
            return output;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public static byte[] Open(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> data, ReadOnlySpan<byte> aad)
    {
        if (data.Length < InfoSize + AesGcmData.Overhead)
        {
            throw EtcdValueException.Malformed($"extended-nonce AES-GCM data is {data.Length} bytes, shorter than info, nonce and tag ({InfoSize + AesGcmData.Overhead})");
        }

        var key = DeriveKey(seed, data[..InfoSize]);
        try
        {
            return AesGcmData.Open(key, data[InfoSize..], aad);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
