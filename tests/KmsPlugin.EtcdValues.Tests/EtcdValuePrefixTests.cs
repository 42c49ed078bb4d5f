using System.Text;

namespace KmsPlugin.EtcdValues.Tests;

public sealed class EtcdValuePrefixTests
{
    public static TheoryData<string, string, string?, string> Table => new()
    {
        { "k8s:enc:kms:v1:ibm:\u0000\u0002xy", "KmsV1", "ibm", "\u0000\u0002xy" },
        { "k8s:enc:kms:v2:kms-provider:\n\u0001x", "KmsV2", "kms-provider", "\n\u0001x" },
        { "k8s:enc:aescbc:v1:key1:data", "AesCbc", "key1", "data" },
        { "k8s:enc:aesgcm:v1:key2:data", "AesGcm", "key2", "data" },
        { "k8s:enc:secretbox:v1:key3:data", "Secretbox", "key3", "data" },
        { "k8s:enc:kms:v1:ibm:", "KmsV1", "ibm", "" },
        { "k8s:enc:kms:v1:a:b:c", "KmsV1", "a", "b:c" },
        { "k8s:enc:kms:v3:ibm:data", "UnknownEncrypted", null, "k8s:enc:kms:v3:ibm:data" },
        { "k8s:enc:kms:v1::data", "UnknownEncrypted", null, "k8s:enc:kms:v1::data" },
        { "k8s:enc:kms:v1:ibm", "UnknownEncrypted", null, "k8s:enc:kms:v1:ibm" },
        { "k8s:enc:identity:x:", "UnknownEncrypted", null, "k8s:enc:identity:x:" },
        { "k8s:enc:", "UnknownEncrypted", null, "k8s:enc:" },
        { "k8s:enc", "Identity", null, "k8s:enc" },
        { "K8S:ENC:kms:v1:ibm:x", "Identity", null, "K8S:ENC:kms:v1:ibm:x" },
        { "k8s\u0000\n\u000cv1", "Identity", null, "k8s\u0000\n\u000cv1" },
        { "{\"kind\":\"Secret\"}", "Identity", null, "{\"kind\":\"Secret\"}" },
        { "", "Identity", null, "" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Classifies_by_prefix(string value, string kindName, string? name, string rest)
    {
        var kind = Enum.Parse<EtcdValueKind>(kindName);
        var classified = EtcdValuePrefix.Classify(Encoding.UTF8.GetBytes(value));
        Assert.Equal(kind, classified.Kind);
        Assert.Equal(name, classified.Name);
        Assert.Equal(rest, Encoding.UTF8.GetString(classified.Rest.Span));
        Assert.Equal(kind != EtcdValueKind.Identity, classified.IsEncrypted);
    }

    [Fact]
    public void Builds_kms_prefixes_and_refuses_names_kube_apiserver_cannot_have()
    {
        Assert.Equal("k8s:enc:kms:v1:ibm:"u8.ToArray(), EtcdValuePrefix.KmsV1("ibm"));
        Assert.Equal("k8s:enc:kms:v2:kms-provider:"u8.ToArray(), EtcdValuePrefix.KmsV2("kms-provider"));
        Assert.Throws<ArgumentException>(() => EtcdValuePrefix.KmsV1(""));
        Assert.Throws<ArgumentException>(() => EtcdValuePrefix.KmsV2("a:b"));
    }
}
