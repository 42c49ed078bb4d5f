using Google.Protobuf;
using Google.Protobuf.Collections;
using KmsPlugin.EtcdValues;

namespace KmsPlugin.Server.Grpc;

/// <summary>
/// kube-apiserver's rules for KMS v2 annotations (the ones the etcd envelope reader applies too):
/// every key a fully qualified domain name, keys and values together at most 32 KiB. This plugin
/// issues none (its ciphertext names its root key), so a Decrypt carrying annotations that break
/// the rules did not come from it.
/// </summary>
internal static class V2Annotations
{
    /// <summary>The first broken rule, or null when the annotations are acceptable.</summary>
    public static string? Problem(MapField<string, ByteString> annotations)
    {
        long total = 0;
        foreach (var (key, value) in annotations)
        {
            if (!DnsNames.IsFullyQualifiedDomainName(key))
            {
                return "annotation keys must be fully qualified domain names";
            }

            total += System.Text.Encoding.UTF8.GetByteCount(key) + value.Length;
        }

        return total > EncryptedObjectRules.MaxAnnotationsSize
            ? $"annotations total {total} bytes; at most {EncryptedObjectRules.MaxAnnotationsSize} are allowed"
            : null;
    }
}
