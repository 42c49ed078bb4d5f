using System.Text;

namespace KmsPlugin.EtcdValues;

/// <summary>
/// kube-apiserver's <c>ValidateEncryptedObject</c> (kubernetes/apiserver
/// <c>pkg/storage/value/encrypt/envelope/kmsv2/envelope.go</c>), run on every read and every write,
/// in its order. A value that breaks one is unreadable to kube-apiserver.
/// </summary>
internal static class EncryptedObjectRules
{
    public const int MaxKeyIdLength = 1024;
    public const int MaxEncryptedDekSourceLength = 1024;
    public const int MaxAnnotationsSize = 32 * 1024;

    public static void Validate(EncryptedObject value)
    {
        if (value.EncryptedDekSourceType is not (EncryptedDekSourceType.AesGcmKey or EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed))
        {
            throw EtcdValueException.Invalid($"unknown encryptedDEKSourceType: {(int)value.EncryptedDekSourceType}");
        }

        if (value.EncryptedData.IsEmpty)
        {
            throw EtcdValueException.Invalid("encrypted data is empty");
        }

        if (value.EncryptedDekSource.Length is 0 or > MaxEncryptedDekSourceLength)
        {
            throw EtcdValueException.Invalid($"encryptedDEKSource is {value.EncryptedDekSource.Length} bytes, not 1..{MaxEncryptedDekSourceLength}");
        }

        var keyIdLength = Encoding.UTF8.GetByteCount(value.KeyId);
        if (keyIdLength is 0 or > MaxKeyIdLength)
        {
            throw EtcdValueException.Invalid($"keyID is {keyIdLength} bytes, not 1..{MaxKeyIdLength}");
        }

        long size = 0;
        foreach (var (key, annotation) in value.Annotations)
        {
            if (!DnsNames.IsFullyQualifiedDomainName(key))
            {
                throw EtcdValueException.Invalid($"annotation key \"{key}\" is not a fully qualified domain name");
            }

            size += Encoding.UTF8.GetByteCount(key) + annotation.Length;
        }

        if (size > MaxAnnotationsSize)
        {
            throw EtcdValueException.Invalid($"annotations total {size} bytes, more than {MaxAnnotationsSize}");
        }
    }
}
