using System.Security.Cryptography;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>Key material hygiene between key rings that share entries.</summary>
internal static class KeyRingMaterial
{
    /// <summary>Zeroes the material of <paramref name="dropped"/> that <paramref name="kept"/> does not share.</summary>
    public static void ZeroUnshared(KeyRing dropped, KeyRing? kept)
    {
        foreach (var entry in dropped.Entries)
        {
            if (kept is null || !kept.Entries.Any(k => ReferenceEquals(k.Material, entry.Material)))
            {
                CryptographicOperations.ZeroMemory(entry.Material);
            }
        }
    }
}
