namespace KmsPlugin.EtcdValues;

/// <summary>Which cipher opened a KMS v1 payload.</summary>
internal enum KmsV1PayloadCipher
{
    /// <summary>AES-GCM with the etcd key as AAD: what kube-apiserver ≥ 1.25 writes.</summary>
    AesGcm,

    /// <summary>Legacy AES-CBC (≤ 1.24). kube-apiserver reads it as stale, so the next update rewrites it as GCM.</summary>
    AesCbc,
}
