namespace KmsPlugin.EtcdValues;

/// <summary>
/// kube-apiserver's KMS v2 storage message (kubernetes/apiserver
/// <c>pkg/storage/value/encrypt/envelope/kmsv2/v2/api.proto</c>, <c>package v2</c>), field by field.
/// </summary>
internal sealed class EncryptedObject
{
    public EncryptedObject(
        ReadOnlyMemory<byte> encryptedData,
        string keyId,
        ReadOnlyMemory<byte> encryptedDekSource,
        IReadOnlyDictionary<string, byte[]> annotations,
        EncryptedDekSourceType encryptedDekSourceType)
    {
        EncryptedData = encryptedData;
        KeyId = keyId;
        EncryptedDekSource = encryptedDekSource;
        Annotations = annotations;
        EncryptedDekSourceType = encryptedDekSourceType;
    }

    /// <summary>Field 1: gcm-raw or gcm-hkdf, by <see cref="EncryptedDekSourceType"/>.</summary>
    public ReadOnlyMemory<byte> EncryptedData { get; }

    /// <summary>Field 2: the plugin's <c>EncryptResponse.key_id</c>.</summary>
    public string KeyId { get; }

    /// <summary>Field 3: the plugin's <c>EncryptResponse.ciphertext</c> of the DEK or seed.</summary>
    public ReadOnlyMemory<byte> EncryptedDekSource { get; }

    /// <summary>Field 4: the plugin's <c>EncryptResponse.annotations</c>.</summary>
    public IReadOnlyDictionary<string, byte[]> Annotations { get; }

    /// <summary>Field 5.</summary>
    public EncryptedDekSourceType EncryptedDekSourceType { get; }
}
