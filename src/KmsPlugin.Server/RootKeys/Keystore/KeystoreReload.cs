using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Keystore;

using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.RootKeys.Keystore;

/// <summary>
/// Reload of a software keystore while serving: the passphrase is read again from its file or
/// environment variable (so it is not kept in memory between reloads), the file is loaded and
/// checked in full, and only then swapped into the running provider.
/// </summary>
internal static class KeystoreReload
{
    /// <summary>Loads <paramref name="keystorePath"/> into <paramref name="provider"/>; throws and changes nothing on failure.</summary>
    public static string Reload(string keystorePath, string? passphraseFile, KeystoreRootKeyProvider provider)
    {
        var problems = new List<string>();
        var passphrase = KeystoreSettings.Passphrase.Read(passphraseFile, "--passphrase-file", problems);
        if (passphrase is null)
        {
            throw new KmsException(KmsErrorKind.ProviderUnavailable, string.Join("; ", problems));
        }

        try
        {
            using var keystore = KeystoreFile.Load(keystorePath, passphrase);
            provider.Reload(keystore);
            return $"primary key_id {provider.Primary.KeyId}, {provider.Keys.Count} root keys in the ring";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passphrase);
        }
    }
}
