namespace KmsPlugin.EtcdValues;

/// <summary>
/// A parsed and validated KMS v2 etcd value. <paramref name="IsCanonical"/> is false when the
/// protobuf was readable but is not what kube-apiserver writes (unknown or repeated fields, other
/// field order, non-minimal varints, an explicit type 0): readable, yet not written by kube-apiserver.
/// </summary>
internal sealed record KmsV2Value(string ProviderName, EncryptedObject Object, bool IsCanonical);
