using System.Security.Cryptography;

namespace KmsPlugin.EtcdValues;

/// <summary>
/// The legacy AES-CBC payload of KMS v1 values written by kube-apiserver ≤ 1.24
/// (kubernetes/apiserver <c>pkg/storage/value/encrypt/aes/aes_cbc.go</c>). No AAD and no MAC:
/// <code>
/// 0       16                                   end
/// | IV 16 | AES-CBC(plaintext | PKCS#7 padding) |
/// </code>
/// The padding check is Go's, byte for byte: the last byte c must be 1..len and the last c bytes
/// must all equal c. Go does not cap c at the block size, so neither does this.
/// </summary>
internal static class AesCbcData
{
    public const int BlockSize = 16;

    public static byte[] Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        AesGcmData.RequireAesKey(key);
        if (data.Length < 2 * BlockSize || data.Length % BlockSize != 0)
        {
            throw EtcdValueException.Malformed($"AES-CBC data is {data.Length} bytes, not an IV plus whole blocks");
        }

        using var aes = CreateAes(key);
        var padded = aes.DecryptCbc(data[BlockSize..], data[..BlockSize], PaddingMode.None);
        int c = padded[^1];
        var size = padded.Length - c;
        if (c == 0 || c > padded.Length || padded.AsSpan(size).ContainsAnyExcept((byte)c))
        {
            CryptographicOperations.ZeroMemory(padded);
            throw EtcdValueException.AuthenticationFailed("AES-CBC padding is invalid (wrong key or tampered data)");
        }

        var plaintext = padded[..size];
        CryptographicOperations.ZeroMemory(padded);
        return plaintext;
    }

    /// <summary>What kube-apiserver ≤ 1.24 wrote. Only tests and migration rehearsals should need it.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext)
    {
        Span<byte> iv = stackalloc byte[BlockSize];
        RandomNumberGenerator.Fill(iv);
        return Seal(key, iv, plaintext);
    }

    /// <summary>Seals with a caller-chosen IV: for known-answer tests only.</summary>
    internal static byte[] Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> plaintext)
    {
        AesGcmData.RequireAesKey(key);
        if (iv.Length != BlockSize)
        {
            throw new ArgumentException($"IV must be {BlockSize} bytes", nameof(iv));
        }

        using var aes = CreateAes(key);
        var ciphertext = aes.EncryptCbc(plaintext, iv, PaddingMode.PKCS7);
        var output = new byte[BlockSize + ciphertext.Length];
        iv.CopyTo(output);
        ciphertext.CopyTo(output, BlockSize);
        return output;
    }

    private static Aes CreateAes(ReadOnlySpan<byte> key)
    {
        var copy = key.ToArray();
        try
        {
            var aes = Aes.Create();
            aes.Key = copy;
            return aes;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(copy);
        }
    }
}
