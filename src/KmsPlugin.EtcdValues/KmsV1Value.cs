namespace KmsPlugin.EtcdValues;

/// <summary>A parsed KMS v1 etcd value; the memory slices the value it was parsed from.</summary>
internal sealed record KmsV1Value(string ProviderName, ReadOnlyMemory<byte> EncryptedDek, ReadOnlyMemory<byte> Payload);
