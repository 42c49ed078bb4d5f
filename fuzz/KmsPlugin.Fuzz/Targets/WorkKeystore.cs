using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Fuzz.Targets;

/// <summary>Settings for the keystores the fuzz targets make: Argon2id at its smallest, so a derivation costs microseconds.</summary>
internal static class WorkKeystore
{
    public static readonly byte[] Passphrase = "kms-plugin fuzzing, not a secret"u8.ToArray();

    public static readonly KeystoreOptions Options = new() { Kdf = new KeystoreKdfParameters(8, 1, 1), AllowWeakKdfForTests = true };

    /// <summary>What the keystore target still derives for; costlier headers are checked by the parser alone.</summary>
    public static bool IsCheap(KeystoreKdfParameters kdf) => kdf.MemoryKiB <= 64 && kdf.Iterations <= 2;
}
