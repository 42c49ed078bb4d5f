using System.Security.Cryptography;

namespace KmsPlugin.Core.RootKeys;

/// <summary>
/// A root key's key check value (KCV): lets an operator compare the root keys of two nodes without
/// seeing them. KCV = the first <see cref="Length"/> bytes, in lower-case hex, of the AES-256-GCM tag
/// over an empty plaintext with <see cref="Label"/> as AAD and the all-zero 96-bit <see cref="Nonce"/>
/// (GMAC of the label). The same computation runs in process for software keys and inside the token
/// (C_Encrypt, CKM_AES_GCM) for PKCS#11 keys, whose only permitted uses are encrypt and decrypt.
/// <para>
/// A fixed GCM nonce is safe here. The tag is E_K(J0) XOR GHASH_H(label), J0 = nonce || 0^31 || 1:
/// GCM's nonce-reuse weakness needs two different messages under one nonce (XORing their tags
/// exposes the GHASH key H), but only this one constant message is ever sealed under the fixed nonce,
/// so every computation returns the same value and adds nothing. Wrapping uses random nonces, which
/// equal the zero nonce with probability 2^-96. H = E_K(0^128) itself is never produced (J0 ≠ 0^128).
/// </para>
/// </summary>
public static class KeyCheckValue
{
    /// <summary>Bytes kept from the 16-byte tag: enough to tell keys apart, too few to forge anything.</summary>
    public const int Length = 8;

    public const int TagSize = 16;

    public static ReadOnlySpan<byte> Label => "kms-plugin root key check value v1"u8;

    public static ReadOnlySpan<byte> Nonce => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The KCV of an AES-256 key held in process.</summary>
    public static string Compute(ReadOnlySpan<byte> key)
    {
        using var aes = new AesGcm(key, TagSize);
        Span<byte> tag = stackalloc byte[TagSize];
        aes.Encrypt(Nonce, [], [], tag, Label);
        return FromTag(tag);
    }

    /// <summary>The KCV from a full GCM tag computed elsewhere (inside an HSM).</summary>
    public static string FromTag(ReadOnlySpan<byte> tag)
    {
        if (tag.Length != TagSize)
        {
            throw new ArgumentException($"a GCM tag is {TagSize} bytes, got {tag.Length}", nameof(tag));
        }

        return Convert.ToHexStringLower(tag[..Length]);
    }
}
