using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.Kubernetes;

/// <summary>Reads which kms-plugin root key protects a KMS etcd value, without decrypting anything.</summary>
internal static class PluginKeyIdReader
{
    public static PluginKeyIds Read(ReadOnlyMemory<byte> etcdValue)
    {
        var kind = EtcdValuePrefix.Classify(etcdValue).Kind;
        switch (kind)
        {
            case EtcdValueKind.KmsV1:
                var v1 = KmsV1Envelope.Parse(etcdValue);
                return new PluginKeyIds(kind, v1.ProviderName, RootKeyIdOf(v1.EncryptedDek.Span), null);
            case EtcdValueKind.KmsV2:
                var v2 = KmsV2Envelope.Parse(etcdValue);
                return new PluginKeyIds(kind, v2.ProviderName, RootKeyIdOf(v2.Object.EncryptedDekSource.Span), v2.Object.KeyId);
            default:
                throw EtcdValueException.Malformed($"not a KMS value ({kind})");
        }
    }

    private static string RootKeyIdOf(ReadOnlySpan<byte> pluginCiphertext)
    {
        try
        {
            return EnvelopeEncryptor.ReadRootKeyId(pluginCiphertext);
        }
        catch (KmsException e) when (e.Kind == KmsErrorKind.InvalidCiphertext)
        {
            throw new EtcdValueException(EtcdValueError.NotPluginCiphertext, $"encrypted DEK is not a kms-plugin ciphertext ({e.Message})", e);
        }
    }
}
