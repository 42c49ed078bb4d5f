using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>Every root key a keystore file holds right now, with state and material, read in-process.</summary>
internal sealed record KeystoreSnapshot(IReadOnlyDictionary<string, KeystoreSnapshot.RootKey> Keys, string PrimaryId)
{
    /// <summary>Loads the file as the plugin does; throws when it is missing, corrupt or unreadable.</summary>
    public static KeystoreSnapshot Load(KeystoreFiles files)
    {
        using var keystore = KeystoreFile.Load(files.Keystore, System.Text.Encoding.UTF8.GetBytes(files.Passphrase));
        return keystore.WithRing(ring => new KeystoreSnapshot(
            ring.Entries.ToDictionary(e => e.Id, e => new RootKey(e.Id, e.State, e.Material.ToArray())),
            ring.Primary.Id));
    }

    /// <summary>The keys of this snapshot that <paramref name="later"/> lacks or holds with other material.</summary>
    public IReadOnlyList<string> LostIn(KeystoreSnapshot later) =>
        Keys.Values
            .Where(k => !later.Keys.TryGetValue(k.Id, out var kept) || !kept.Material.AsSpan().SequenceEqual(k.Material))
            .Select(k => k.Id)
            .ToList();

    internal sealed record RootKey(string Id, KeyState State, byte[] Material);
}
