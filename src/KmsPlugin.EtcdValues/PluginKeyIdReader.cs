using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.EtcdValues;

/// <summary>Reads which kms-plugin root key protects a KMS etcd value, without decrypting anything.</summary>
internal static class PluginKeyIdReader
{
    public static PluginKeyIds Read(ReadOnlyMemory<byte> etcdValue)
    {
        var kind = EtcdValuePrefix.Classify(etcdValue).Kind;
        switch (kind)
        {
            case EtcdValueKind.KmsV1:
                return Read(KmsV1Envelope.Parse(etcdValue));
            case EtcdValueKind.KmsV2:
                return Read(KmsV2Envelope.Parse(etcdValue));
            default:
                throw EtcdValueException.Malformed($"not a KMS value ({kind})");
        }
    }

    public static PluginKeyIds Read(KmsV1Value value) =>
        new(EtcdValueKind.KmsV1, value.ProviderName, RootKeyIdOf(value.EncryptedDek.Span), null);

    public static PluginKeyIds Read(KmsV2Value value) =>
        new(EtcdValueKind.KmsV2, value.ProviderName, RootKeyIdOf(value.Object.EncryptedDekSource.Span), value.Object.KeyId);

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
