using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Tests.Support;
using YamlDotNet.RepresentationModel;
using static KmsPlugin.Server.Tests.Deployment.EncryptionConfigurationRules;

namespace KmsPlugin.Server.Tests.Deployment;

public sealed class EncryptionConfigurationExampleTests
{
    public static TheoryData<string> Examples => new(ExampleFiles.Where(f => f != SideBySide));

    private const string SideBySide = "encryption-config-side-by-side.yaml";

    private static IEnumerable<string> ExampleFiles =>
        Directory.GetFiles(ExamplesDirectory, "encryption-config-*.yaml").Select(f => Path.GetFileName(f));

    private static string ExamplesDirectory => Path.Combine(RepositoryPaths.Root, "charts/examples");

    [Fact]
    public void There_are_v1_v2_and_migration_examples() =>
        Assert.Equal(["encryption-config-side-by-side.yaml", "encryption-config-v1-to-v2.yaml", "encryption-config-v1.yaml", "encryption-config-v2.yaml"], ExampleFiles.Order());

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_passes_kube_apiserver_validation_and_points_at_the_default_socket(string file)
    {
        var root = Load(file);

        Assert.Empty(Problems(root));
        foreach (var kms in KmsProviders(root))
        {
            Assert.Equal("unix://" + CommonOptions.DefaultSocket, Scalar(kms, "endpoint"));
        }

        var first = (YamlMappingNode)Sequence((YamlMappingNode)Sequence(root, "resources")[0], "providers")[0];
        Assert.True(first.Children.ContainsKey(new YamlScalarNode("kms")), "the kms provider must be first, so that writes are encrypted");
    }

    [Fact]
    public void The_side_by_side_example_writes_through_the_new_plugin_and_still_reads_through_the_old_one()
    {
        var root = Load(SideBySide);

        Assert.Empty(Problems(root));
        var kms = KmsProviders(root);
        Assert.Equal(["kms-plugin-hsm", "kms-plugin"], kms.Select(k => Scalar(k, "name")));
        Assert.Equal(["v2", "v2"], kms.Select(k => Scalar(k, "apiVersion")));
        var endpoints = kms.Select(k => Scalar(k, "endpoint")).ToList();
        Assert.Equal("unix://" + CommonOptions.DefaultSocket, endpoints[1]);
        Assert.NotEqual(endpoints[0], endpoints[1]);
        var first = (YamlMappingNode)Sequence((YamlMappingNode)Sequence(root, "resources")[0], "providers")[0];
        Assert.True(first.Children.ContainsKey(new YamlScalarNode("kms")), "the new plugin must be first, so that writes go to it");
    }

    [Fact]
    public void The_v1_example_writes_under_the_ibm_prefix_and_the_v2_example_says_v2()
    {
        Assert.Equal("ibm", Scalar(Assert.Single(KmsProviders(Load("encryption-config-v1.yaml"))), "name"));
        Assert.Equal("v2", Scalar(Assert.Single(KmsProviders(Load("encryption-config-v2.yaml"))), "apiVersion"));
        var migration = KmsProviders(Load("encryption-config-v1-to-v2.yaml"));
        Assert.Equal(["v2", null], migration.Select(k => Scalar(k, "apiVersion")));
    }

    [Theory]
    [InlineData("apiVersion: v2\n          name: a:b", "must not contain ':'")]
    [InlineData("apiVersion: v2\n          cachesize: 100\n          name: x", "cachesize is not supported in v2")]
    [InlineData("name: x\n          cachesize: 0", "non-zero")]
    [InlineData("apiVersion: v3\n          name: x", "must be v1 or v2")]
    public void The_rules_catch_what_kube_apiserver_refuses(string kmsFields, string expected)
    {
        var yaml = $"""
            apiVersion: apiserver.config.k8s.io/v1
            kind: EncryptionConfiguration
            resources:
              - resources: [secrets]
                providers:
                  - kms:
                      {kmsFields}
                      endpoint: unix:///tmp/x.sock
            """;
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        Assert.Contains(Problems((YamlMappingNode)stream.Documents[0].RootNode), p => p.Contains(expected));
    }

    private static YamlMappingNode Load(string file)
    {
        var stream = new YamlStream();
        using var reader = File.OpenText(Path.Combine(ExamplesDirectory, file));
        stream.Load(reader);
        return (YamlMappingNode)Assert.Single(stream.Documents).RootNode;
    }

    private static List<YamlMappingNode> KmsProviders(YamlMappingNode root) =>
        Sequence(root, "resources").Cast<YamlMappingNode>()
            .SelectMany(r => Sequence(r, "providers").Cast<YamlMappingNode>())
            .Where(p => p.Children.ContainsKey(new YamlScalarNode("kms")))
            .Select(p => (YamlMappingNode)p.Children["kms"])
            .ToList();
}
