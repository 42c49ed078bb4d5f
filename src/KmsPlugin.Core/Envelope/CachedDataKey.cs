using System.Text;

namespace KmsPlugin.Core.Envelope;

/// <summary>A DEK in the cache, with the root key id its wrapped form is bound to.</summary>
internal sealed class CachedDataKey
{
    private long _checkedKeyRingVersion;

    public CachedDataKey(byte[] wrappedKey, string rootKeyId, DataEncryptionKey key)
    {
        WrappedKey = wrappedKey;
        RootKeyId = rootKeyId;
        RootKeyIdBytes = Encoding.ASCII.GetBytes(rootKeyId);
        Key = key;
    }

    public byte[] WrappedKey { get; }

    public string RootKeyId { get; }

    /// <summary><see cref="RootKeyId"/> as an envelope header carries it.</summary>
    public byte[] RootKeyIdBytes { get; }

    public DataEncryptionKey Key { get; }

    /// <summary>Set on every hit, cleared when the eviction hand passes (CLOCK); racing writes are harmless.</summary>
    public bool UsedSinceLastPass { get; set; }

    /// <summary>True when the root key was last found enabled at <paramref name="keyRingVersion"/> (see <see cref="RootKeys.IRootKeyProvider.KeyRingVersion"/>).</summary>
    public bool WasCheckedAt(long keyRingVersion) => keyRingVersion != 0 && Volatile.Read(ref _checkedKeyRingVersion) == keyRingVersion;

    /// <summary>
    /// Records a check made at <paramref name="keyRingVersion"/>, read before the check: a reload
    /// racing it leaves an older version here, which only costs one more check.
    /// </summary>
    public void MarkCheckedAt(long keyRingVersion) => Volatile.Write(ref _checkedKeyRingVersion, keyRingVersion);
}
