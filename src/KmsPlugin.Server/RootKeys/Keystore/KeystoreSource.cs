using System.Security.Cryptography;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Server.RootKeys.Keystore;

/// <summary>A keystore file whose passphrase was read; opening loads it and zeroes the passphrase.</summary>
internal sealed class KeystoreSource(string keystorePath, byte[] passphrase) : IRootKeySource
{
    public string Description => $"keystore \"{keystorePath}\"";

    public bool OpeningChecksConfiguration => false;

    public IRootKeyProvider Open()
    {
        try
        {
            using var keystore = KeystoreFile.Load(keystorePath, passphrase);
            return new KeystoreRootKeyProvider(keystore);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passphrase);
        }
    }
}
