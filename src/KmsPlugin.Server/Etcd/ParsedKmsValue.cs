using KmsPlugin.EtcdValues;

namespace KmsPlugin.Server.Etcd;

/// <summary>A KMS v1 or v2 etcd value parsed once, with the kms-plugin key ids read from it.</summary>
internal sealed record ParsedKmsValue(PluginKeyIds Ids, KmsV1Value? V1, KmsV2Value? V2)
{
    /// <summary>Throws <see cref="EtcdValueException"/> for a value kube-apiserver could not read either.</summary>
    public static ParsedKmsValue Parse(EtcdValueKind kind, ReadOnlyMemory<byte> value)
    {
        if (kind == EtcdValueKind.KmsV1)
        {
            var v1 = KmsV1Envelope.Parse(value);
            return new(PluginKeyIdReader.Read(v1), v1, null);
        }

        var v2 = KmsV2Envelope.Parse(value);
        return new(PluginKeyIdReader.Read(v2), null, v2);
    }
}
