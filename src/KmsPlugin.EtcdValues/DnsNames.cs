namespace KmsPlugin.EtcdValues;

/// <summary>
/// apimachinery's <c>IsFullyQualifiedDomainName</c>, which kube-apiserver applies to KMS v2
/// annotation keys: one trailing '.' allowed, at most 253 characters, at least two labels, each a
/// DNS-1123 label (1..63 of [a-z0-9-], starting and ending alphanumeric).
/// </summary>
internal static class DnsNames
{
    public static bool IsFullyQualifiedDomainName(string name)
    {
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }

        if (name.Length is 0 or > 253)
        {
            return false;
        }

        var labels = name.Split('.');
        return labels.Length >= 2 && labels.All(IsDns1123Label);
    }

    public static bool IsDns1123Label(string label) =>
        label.Length is > 0 and <= 63
        && IsAlphanumeric(label[0])
        && IsAlphanumeric(label[^1])
        && label.All(c => IsAlphanumeric(c) || c == '-');

    private static bool IsAlphanumeric(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}
