using System.Security.Cryptography;
using KmsPlugin.Core.Crypto;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>The file key derived from the passphrase, and the key ring sealed under it (AES-GCM, the header as AAD).</summary>
internal static class KeyRingSeal
{
    public static byte[] DeriveFileKey(KeystoreHeader header, ReadOnlySpan<byte> passphrase)
    {
        var key = GC.AllocateArray<byte>(32, pinned: true);
        header.Kdf.DeriveKey(passphrase, header.Salt, key);
        return key;
    }

    public static KeyRing Open(string path, KeystoreHeader header, byte[] fileKey, byte[] sealedRing)
    {
        var plaintext = GC.AllocateArray<byte>(AesGcmSealer.PlaintextLength(sealedRing.Length), pinned: true);
        try
        {
            if (!AesGcmSealer.TryOpen(fileKey, sealedRing, header.ToAssociatedData(), plaintext))
            {
                throw KeystoreErrors.Unavailable(path, "wrong passphrase or the file was modified");
            }

            return KeyRingSerializer.Deserialize(plaintext);
        }
        catch (FormatException e)
        {
            throw KeystoreErrors.Unavailable(path, $"the key ring cannot be read ({e.Message})", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Seals <paramref name="ring"/> under the file key, reused with a fresh random nonce per save (a keystore sees few saves).</summary>
    public static byte[] Seal(KeyRing ring, KeystoreHeader header, byte[] fileKey)
    {
        var plaintext = KeyRingSerializer.Serialize(ring);
        try
        {
            return AesGcmSealer.Seal(fileKey, plaintext, header.ToAssociatedData());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    public static void RequirePassphrase(ReadOnlySpan<byte> passphrase)
    {
        if (passphrase.IsEmpty)
        {
            throw new KmsException(KmsErrorKind.ProviderUnavailable, "the keystore passphrase is empty");
        }
    }
}
