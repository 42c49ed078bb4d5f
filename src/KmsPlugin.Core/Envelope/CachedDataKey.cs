namespace KmsPlugin.Core.Envelope;

/// <summary>A DEK in the cache, with the root key id its wrapped form is bound to.</summary>
internal sealed class CachedDataKey
{
    public CachedDataKey(byte[] wrappedKey, string rootKeyId, DataEncryptionKey key)
    {
        WrappedKey = wrappedKey;
        RootKeyId = rootKeyId;
        Key = key;
    }

    public byte[] WrappedKey { get; }

    public string RootKeyId { get; }

    public DataEncryptionKey Key { get; }

    /// <summary>Set on every hit, cleared when the eviction hand passes (CLOCK); racing writes are harmless.</summary>
    public bool UsedSinceLastPass { get; set; }
}
