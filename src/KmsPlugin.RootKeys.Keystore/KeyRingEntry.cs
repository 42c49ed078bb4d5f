using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// One root key inside a <see cref="KeyRing"/>. The material array is pinned and may be shared by the
/// entries of successive rings (a state change does not copy it); <see cref="KeystoreFile"/> zeroes it
/// once no ring it holds refers to it.
/// </summary>
internal sealed class KeyRingEntry
{
    public KeyRingEntry(KeystoreKeyInfo info, byte[] material)
    {
        if (material.Length != KeystoreRootKey.KeySize)
        {
            throw new ArgumentException($"root key material must be {KeystoreRootKey.KeySize} bytes", nameof(material));
        }

        Info = info;
        Material = material;
    }

    public KeystoreKeyInfo Info { get; }

    public byte[] Material { get; }

    public string Id => Info.Id;

    public KeyState State => Info.State;

    public KeyRingEntry WithState(KeyState state) => new(Info with { State = state }, Material);
}
