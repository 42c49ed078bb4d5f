namespace KmsPlugin.EtcdValues;

/// <summary>Which kube-apiserver provider wrote an etcd value, told by its prefix alone.</summary>
internal enum EtcdValueKind
{
    /// <summary>No <c>k8s:enc:</c> prefix: the <c>identity</c> provider, i.e. plaintext.</summary>
    Identity,

    /// <summary><c>k8s:enc:kms:v1:&lt;name&gt;:</c></summary>
    KmsV1,

    /// <summary><c>k8s:enc:kms:v2:&lt;name&gt;:</c></summary>
    KmsV2,

    /// <summary><c>k8s:enc:aescbc:v1:&lt;key name&gt;:</c></summary>
    AesCbc,

    /// <summary><c>k8s:enc:aesgcm:v1:&lt;key name&gt;:</c></summary>
    AesGcm,

    /// <summary><c>k8s:enc:secretbox:v1:&lt;key name&gt;:</c></summary>
    Secretbox,

    /// <summary>Starts with <c>k8s:enc:</c> but matches no provider known here. Not plaintext: identity refuses it.</summary>
    UnknownEncrypted,
}
