using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace KmsPlugin.Server.Tests.Deployment;

/// <summary>
/// The checks kube-apiserver makes on an EncryptionConfiguration (kms-protocol.md §5), applied to
/// the examples we ship so that an operator who copies one gets a config kube-apiserver accepts.
/// </summary>
internal static partial class EncryptionConfigurationRules
{
    private static readonly string[] ProviderKinds = ["aescbc", "aesgcm", "secretbox", "identity", "kms"];

    public static List<string> Problems(YamlMappingNode root)
    {
        var problems = new List<string>();
        Expect(Scalar(root, "apiVersion") == "apiserver.config.k8s.io/v1", "apiVersion must be apiserver.config.k8s.io/v1", problems);
        Expect(Scalar(root, "kind") == "EncryptionConfiguration", "kind must be EncryptionConfiguration", problems);
        var v2Names = new HashSet<string>();
        var resources = Sequence(root, "resources");
        Expect(resources.Children.Count > 0, "resources must not be empty", problems);
        foreach (YamlMappingNode entry in resources)
        {
            Expect(Sequence(entry, "resources").Children.Count > 0, "each entry needs resources", problems);
            var providers = Sequence(entry, "providers");
            Expect(providers.Children.Count > 0, "each entry needs providers", problems);
            foreach (YamlMappingNode provider in providers)
            {
                var kinds = provider.Children.Keys.Select(k => k.ToString()).ToList();
                Expect(kinds.Count == 1 && ProviderKinds.Contains(kinds[0]), $"a provider sets exactly one of {string.Join(", ", ProviderKinds)}", problems);
                if (kinds.SingleOrDefault() == "kms")
                {
                    CheckKms((YamlMappingNode)provider.Children["kms"], v2Names, problems);
                }
            }
        }

        return problems;
    }

    private static void CheckKms(YamlMappingNode kms, HashSet<string> v2Names, List<string> problems)
    {
        var apiVersion = Scalar(kms, "apiVersion") ?? "v1";
        var name = Scalar(kms, "name");
        Expect(apiVersion is "v1" or "v2", $"kms.apiVersion {apiVersion} must be v1 or v2", problems);
        Expect(!string.IsNullOrEmpty(name), "kms.name is required", problems);
        Expect(Scalar(kms, "endpoint") is { } endpoint && endpoint.StartsWith("unix:///", StringComparison.Ordinal), "kms.endpoint must be unix:///path", problems);
        if (Scalar(kms, "timeout") is { } timeout)
        {
            Expect(GoDuration().IsMatch(timeout) && !timeout.StartsWith('0'), $"kms.timeout {timeout} must be a positive duration", problems);
        }

        if (apiVersion == "v2")
        {
            Expect(name is not null && !name.Contains(':'), "a v2 kms name must not contain ':'", problems);
            Expect(name is null || v2Names.Add(name), $"v2 kms name {name} must be unique", problems);
            Expect(Scalar(kms, "cachesize") is null, "cachesize is not supported in v2", problems);
        }
        else if (Scalar(kms, "cachesize") is { } cachesize)
        {
            Expect(int.TryParse(cachesize, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var size) && size != 0, "v1 cachesize must be a non-zero integer", problems);
        }
    }

    public static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

    public static YamlSequenceNode Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? (YamlSequenceNode)value : new YamlSequenceNode();

    private static void Expect(bool condition, string problem, List<string> problems)
    {
        if (!condition)
        {
            problems.Add(problem);
        }
    }

    [GeneratedRegex(@"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$")]
    private static partial Regex GoDuration();
}
