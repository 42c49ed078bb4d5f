using System.Globalization;
using System.Security.Cryptography;
using KmsPlugin.Core.Crypto;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// An escrow copy of a keystore: the same key ring (keys, ids, states, promotion generation) sealed
/// under another passphrase, with a fresh salt and the source's own KDF cost. The source is only
/// read (no lock, no write); the copy is created 0600 and never replaces an existing file.
/// </summary>
internal static class KeystoreExport
{
    /// <summary>Writes the copy and returns its keys (without material).</summary>
    public static IReadOnlyList<KeystoreKeyInfo> Write(string sourcePath, ReadOnlySpan<byte> passphrase, string copyPath, ReadOnlySpan<byte> copyPassphrase, KeystoreOptions? options = null)
    {
        options ??= KeystoreOptions.Default;
        if (copyPassphrase.IsEmpty)
        {
            throw Problem(copyPath, "the copy's passphrase is empty");
        }

        if (CryptographicOperations.FixedTimeEquals(passphrase, copyPassphrase))
        {
            throw Problem(copyPath, "the copy's passphrase is the keystore's own; an escrow copy needs a passphrase of its own (or use cp)");
        }

        if (File.Exists(copyPath) || Directory.Exists(copyPath) || new FileInfo(copyPath).LinkTarget is not null)
        {
            throw Problem(copyPath, "something already exists at this path; refusing to overwrite it");
        }

        using var keystore = KeystoreFile.Load(sourcePath, passphrase, options);
        var header = new KeystoreHeader(SourceKdf(sourcePath), RandomNumberGenerator.GetBytes(KeystoreKdfParameters.SaltSize));
        var fileKey = GC.AllocateArray<byte>(32, pinned: true);
        var plaintext = keystore.WithRing(KeyRingSerializer.Serialize);
        try
        {
            header.Kdf.DeriveKey(copyPassphrase, header.Salt, fileKey);
            var sealedRing = AesGcmSealer.Seal(fileKey, plaintext, header.ToAssociatedData());
            AtomicFile.Write(copyPath, KeystoreFileFormat.Write(header, sealedRing), overwrite: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Problem(copyPath, $"cannot write the copy: {e.Message}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            CryptographicOperations.ZeroMemory(fileKey);
        }

        return keystore.ListKeys();
    }

    /// <summary>The source's Argon2id cost, from its clear header (already checked by the load).</summary>
    private static KeystoreKdfParameters SourceKdf(string sourcePath)
    {
        try
        {
            return KeystoreFileFormat.Parse(File.ReadAllBytes(sourcePath)).Header.Kdf;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new KmsException(KmsErrorKind.ProviderUnavailable, string.Create(CultureInfo.InvariantCulture, $"keystore \"{sourcePath}\": cannot read the file again: {e.Message}"), e);
        }
    }

    private static KmsException Problem(string copyPath, string problem) =>
        new(KmsErrorKind.ProviderUnavailable, string.Create(CultureInfo.InvariantCulture, $"copy \"{copyPath}\": {problem}"));
}
