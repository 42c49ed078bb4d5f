using Google.Protobuf;
using Google.Protobuf.Collections;

namespace KmsPlugin.Server.Grpc;

/// <summary>
/// kube-apiserver's rules for KMS v2 annotations: every key a fully qualified domain name, keys
/// and values together at most 32 KiB. This plugin issues none (its ciphertext names its root
/// key), so a Decrypt carrying annotations that break the rules did not come from it.
/// </summary>
internal static class V2Annotations
{
    public const int MaxTotalBytes = 32 * 1024;

    /// <summary>The first broken rule, or null when the annotations are acceptable.</summary>
    public static string? Problem(MapField<string, ByteString> annotations)
    {
        long total = 0;
        foreach (var (key, value) in annotations)
        {
            if (!IsFullyQualifiedDomainName(key))
            {
                return "annotation keys must be fully qualified domain names";
            }

            total += System.Text.Encoding.UTF8.GetByteCount(key) + value.Length;
        }

        return total > MaxTotalBytes ? $"annotations total {total} bytes; at most {MaxTotalBytes} are allowed" : null;
    }

    /// <summary>At least two lowercase RFC 1123 labels, 253 characters at most, an optional trailing dot.</summary>
    public static bool IsFullyQualifiedDomainName(string name)
    {
        var trimmed = name.EndsWith('.') ? name[..^1] : name;
        if (trimmed.Length is 0 or > 253)
        {
            return false;
        }

        var labels = trimmed.Split('.');
        return labels.Length >= 2 && labels.All(IsLabel);
    }

    private static bool IsLabel(string label) =>
        label.Length is > 0 and <= 63
        && IsAlphanumeric(label[0])
        && IsAlphanumeric(label[^1])
        && label.All(c => IsAlphanumeric(c) || c == '-');

    private static bool IsAlphanumeric(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}
