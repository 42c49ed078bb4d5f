namespace KmsPlugin.EtcdValues;

/// <summary>
/// An etcd value split at its provider prefix. <paramref name="Name"/> is the KMS provider name or
/// the aescbc/aesgcm/secretbox key name (null for identity and unknown); <paramref name="Rest"/> is
/// everything after the prefix (the whole value for identity and unknown).
/// </summary>
internal readonly record struct ClassifiedEtcdValue(EtcdValueKind Kind, string? Name, ReadOnlyMemory<byte> Rest)
{
    public bool IsEncrypted => Kind != EtcdValueKind.Identity;
}
