using System.Text.RegularExpressions;
using KmsPlugin.Server.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace KmsPlugin.Server.Tests.Deployment;

/// <summary>
/// No container engine runs here, so the image and the static pod cannot be started in CI. What
/// can be checked is checked: the manifest and Dockerfile only use flags, variables and paths that
/// exist, and the pieces agree with each other and with the EncryptionConfiguration examples.
/// </summary>
public sealed partial class DeploymentManifestTests
{
    private static string Repo(string path) => Path.Combine(RepositoryPaths.Root, path);

    [Fact]
    public async Task The_static_pod_uses_only_flags_that_serve_accepts_and_its_parts_agree()
    {
        var pod = Load("charts/examples/kms-plugin-static-pod.yaml");
        var container = PluginContainerRules.PluginContainer(pod);
        var flags = await PluginContainerRules.ServeFlagsAsync(container);
        PluginContainerRules.ProbesUseTheHealthPort(container, flags);
        PluginContainerRules.IsHardened(pod, container);
        PluginContainerRules.SharesTheSocketDirectory(pod, container, flags);

        var mounts = PluginContainerRules.Mounts(container);
        Assert.Contains(mounts, m => m.Path == Path.GetDirectoryName(flags["--keystore"]) && m.ReadOnly);
        Assert.Equal(Path.GetDirectoryName(flags["--keystore"]), Path.GetDirectoryName(flags["--passphrase-file"]));

        foreach (var example in new[] { "encryption-config-v1.yaml", "encryption-config-v2.yaml" })
        {
            Assert.Contains($"endpoint: unix://{flags["--socket"]}", await File.ReadAllTextAsync(Repo("charts/examples/" + example)));
        }
    }

    [Fact]
    public async Task The_dockerfile_copies_files_that_exist_and_sets_only_known_variables()
    {
        var dockerfile = await File.ReadAllTextAsync(Repo("Dockerfile"));
        foreach (Match copy in CopyLine().Matches(dockerfile))
        {
            foreach (var source in copy.Groups["sources"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                Assert.True(File.Exists(Repo(source)) || Directory.Exists(Repo(source)), $"Dockerfile copies {source}, which does not exist");
            }
        }

        var help = await PluginProcess.RunCliAsync(null, "serve", "--help");
        foreach (Match variable in Regex.Matches(dockerfile, "KMS_PLUGIN_[A-Z_]+"))
        {
            Assert.Contains(variable.Value, help.Output);
        }

        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/kms-plugin.dll\"]", dockerfile);
        Assert.Contains("<AssemblyName>kms-plugin</AssemblyName>", await File.ReadAllTextAsync(Repo("src/KmsPlugin.Server/KmsPlugin.Server.csproj")));
        Assert.Matches(@"(?m)^USER [1-9][0-9]*", dockerfile);
    }

    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        using var reader = File.OpenText(Repo(path));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    // COPY lines from the build context (not --from=…): everything but the last word is a source.
    [GeneratedRegex(@"(?m)^COPY (?!--from)(?<sources>(\S+ )+)\S+$")]
    private static partial Regex CopyLine();
}
