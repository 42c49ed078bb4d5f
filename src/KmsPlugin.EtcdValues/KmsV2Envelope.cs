using System.Buffers;
using System.Security.Cryptography;

namespace KmsPlugin.EtcdValues;

/// <summary>
/// KMS v2 etcd values, as kubernetes/apiserver <c>pkg/storage/value/encrypt/envelope/kmsv2/envelope.go</c>
/// writes and reads them:
/// <code>
/// | "k8s:enc:kms:v2:" name ":" | protobuf EncryptedObject (fields 1..5)       |
///                               encryptedData = gcm-raw under the DEK        (type 0, AES_GCM_KEY)
///                                             | gcm-hkdf under the seed      (type 1, HKDF_SHA256_XNONCE_AES_GCM_SEED)
/// </code>
/// The AAD is the full etcd key. The DEK or seed is the plugin's Decrypt of encryptedDEKSource.
/// </summary>
internal static class KmsV2Envelope
{
    /// <summary>Parses and validates (kube-apiserver's rules); nothing is decrypted.</summary>
    public static KmsV2Value Parse(ReadOnlyMemory<byte> etcdValue)
    {
        var classified = EtcdValuePrefix.Classify(etcdValue);
        if (classified.Kind != EtcdValueKind.KmsV2)
        {
            throw EtcdValueException.Malformed($"not a KMS v2 value ({classified.Kind})");
        }

        var value = EncryptedObjectCodec.Parse(classified.Rest);
        EncryptedObjectRules.Validate(value);
        var canonical = EncryptedObjectCodec.Serialize(value).AsSpan().SequenceEqual(classified.Rest.Span);
        return new KmsV2Value(classified.Name!, value, canonical);
    }

    /// <summary>Opens encryptedData with the DEK (type 0) or seed (type 1) the plugin returned.</summary>
    public static byte[] Open(EncryptedObject value, ReadOnlySpan<byte> dekSource, ReadOnlySpan<byte> etcdKey) =>
        value.EncryptedDekSourceType switch
        {
            EncryptedDekSourceType.AesGcmKey => AesGcmData.Open(dekSource, value.EncryptedData.Span, etcdKey),
            EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed => AesGcmHkdfData.Open(dekSource, value.EncryptedData.Span, etcdKey),
            var other => throw EtcdValueException.Invalid($"unknown encryptedDEKSourceType: {(int)other}"),
        };

    /// <summary>The etcd value for <paramref name="value"/>, validated first as kube-apiserver does.</summary>
    public static byte[] Write(string providerName, EncryptedObject value)
    {
        EncryptedObjectRules.Validate(value);
        var output = new ArrayBufferWriter<byte>();
        output.Write(EtcdValuePrefix.KmsV2(providerName));
        EncryptedObjectCodec.Write(value, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Seals <paramref name="plaintext"/> as kube-apiserver does with random nonce (and info). The
    /// key id, encrypted DEK source and annotations are the plugin's Encrypt response for
    /// <paramref name="dekSource"/>. kube-apiserver ≥ 1.29 writes type 1; type 0 here uses a random
    /// nonce where kube-apiserver 1.27/1.28 used 4 random bytes and a counter (readers cannot tell).
    /// </summary>
    public static byte[] Seal(
        string providerName,
        EncryptedDekSourceType type,
        ReadOnlySpan<byte> dekSource,
        string keyId,
        ReadOnlyMemory<byte> encryptedDekSource,
        IReadOnlyDictionary<string, byte[]> annotations,
        ReadOnlySpan<byte> plaintext,
        ReadOnlySpan<byte> etcdKey)
    {
        Span<byte> info = stackalloc byte[AesGcmHkdfData.InfoSize];
        Span<byte> nonce = stackalloc byte[AesGcmData.NonceSize];
        RandomNumberGenerator.Fill(info);
        RandomNumberGenerator.Fill(nonce);
        var infoOrNone = type == EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed ? info : [];
        return Seal(providerName, type, dekSource, keyId, encryptedDekSource, annotations, infoOrNone, nonce, plaintext, etcdKey);
    }

    /// <summary>Seals with caller-chosen info (type 1 only; empty for type 0) and nonce: for known-answer tests only.</summary>
    internal static byte[] Seal(
        string providerName,
        EncryptedDekSourceType type,
        ReadOnlySpan<byte> dekSource,
        string keyId,
        ReadOnlyMemory<byte> encryptedDekSource,
        IReadOnlyDictionary<string, byte[]> annotations,
        ReadOnlySpan<byte> info,
        ReadOnlySpan<byte> nonce,
        ReadOnlySpan<byte> plaintext,
        ReadOnlySpan<byte> etcdKey)
    {
        var encryptedData = type switch
        {
            EncryptedDekSourceType.AesGcmKey when info.IsEmpty => AesGcmData.Seal(dekSource, nonce, plaintext, etcdKey),
            EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed => AesGcmHkdfData.Seal(dekSource, info, nonce, plaintext, etcdKey),
            _ => throw new ArgumentException($"cannot seal for encryptedDEKSourceType {(int)type} with {info.Length} bytes of info", nameof(type)),
        };
        return Write(providerName, new EncryptedObject(encryptedData, keyId, encryptedDekSource, annotations, type));
    }
}
