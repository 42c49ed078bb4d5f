namespace KmsPlugin.EtcdValues;

/// <summary>
/// The kms-plugin root key behind a KMS etcd value: <paramref name="RootKeyId"/> from the plugin
/// ciphertext header in the encrypted DEK (v1) or DEK source (v2), and for v2 the
/// <paramref name="StoredKeyId"/> kube-apiserver kept from Encrypt (null for v1).
/// </summary>
internal sealed record PluginKeyIds(EtcdValueKind Kind, string ProviderName, string RootKeyId, string? StoredKeyId);
