using System.Text;

namespace KmsPlugin.EtcdValues;

/// <summary>
/// kube-apiserver's provider prefixes (kubernetes/apiserver <c>pkg/server/options/encryptionconfig/config.go</c>):
/// <code>
/// k8s:enc: | kms:v1: | name | :   rest
///          | kms:v2: |      |
///          | aescbc:v1:     |
///          | aesgcm:v1:     |
///          | secretbox:v1:  |
/// </code>
/// The name runs to the first ':' after the provider part; kube-apiserver only ever writes names
/// without ':', and a prefix with an empty name or no closing ':' is no provider's.
/// </summary>
internal static class EtcdValuePrefix
{
    private static ReadOnlySpan<byte> Encrypted => "k8s:enc:"u8;

    private static readonly (byte[] Provider, EtcdValueKind Kind)[] Providers =
    [
        ("kms:v1:"u8.ToArray(), EtcdValueKind.KmsV1),
        ("kms:v2:"u8.ToArray(), EtcdValueKind.KmsV2),
        ("aescbc:v1:"u8.ToArray(), EtcdValueKind.AesCbc),
        ("aesgcm:v1:"u8.ToArray(), EtcdValueKind.AesGcm),
        ("secretbox:v1:"u8.ToArray(), EtcdValueKind.Secretbox),
    ];

    public static ClassifiedEtcdValue Classify(ReadOnlyMemory<byte> value)
    {
        var span = value.Span;
        if (!span.StartsWith(Encrypted))
        {
            return new ClassifiedEtcdValue(EtcdValueKind.Identity, null, value);
        }

        foreach (var (provider, kind) in Providers)
        {
            var afterProvider = Encrypted.Length + provider.Length;
            if (!span[Encrypted.Length..].StartsWith(provider))
            {
                continue;
            }

            var nameLength = span[afterProvider..].IndexOf((byte)':');
            if (nameLength <= 0)
            {
                break;
            }

            var name = Encoding.UTF8.GetString(span.Slice(afterProvider, nameLength));
            return new ClassifiedEtcdValue(kind, name, value[(afterProvider + nameLength + 1)..]);
        }

        return new ClassifiedEtcdValue(EtcdValueKind.UnknownEncrypted, null, value);
    }

    public static byte[] KmsV1(string providerName) => Build("kms:v1:", providerName);

    public static byte[] KmsV2(string providerName) => Build("kms:v2:", providerName);

    private static byte[] Build(string provider, string name)
    {
        if (name.Length == 0 || name.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException("provider name must be non-empty and contain no ':'", nameof(name));
        }

        return Encoding.UTF8.GetBytes($"k8s:enc:{provider}{name}:");
    }
}
