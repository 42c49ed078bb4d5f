namespace KmsPlugin.EtcdValues;

/// <summary>KMS v2 <c>EncryptedObject.encryptedDEKSourceType</c> (field 5). Values read off the wire may be outside this set.</summary>
internal enum EncryptedDekSourceType
{
    /// <summary>The DEK source is a 32-byte AES-256 key; encryptedData is gcm-raw. Proto3 default: never on the wire.</summary>
    AesGcmKey = 0,

    /// <summary>The DEK source is a seed; encryptedData is gcm-hkdf. Written since kube-apiserver 1.29.</summary>
    HkdfSha256XNonceAesGcmSeed = 1,
}
