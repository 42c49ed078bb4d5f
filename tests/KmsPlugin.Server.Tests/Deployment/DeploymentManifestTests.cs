using System.Text.RegularExpressions;
using KmsPlugin.Server.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace KmsPlugin.Server.Tests.Deployment;

/// <summary>
/// Static checks of the manifest and the Dockerfile: they only use flags, variables and paths that
/// exist, and the pieces agree with each other and with the EncryptionConfiguration examples.
/// tests/KmsPlugin.Server.Tests/Image runs the image and the static pod for real with podman.
/// </summary>
public sealed partial class DeploymentManifestTests
{
    private const string PrebuiltBinary = ".build/image/kms-plugin";

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

        // The image has no shell for an init container to chown with: the node prepares the
        // directory, and the pod refuses to start without it rather than get a root-owned one.
        Assert.False(((YamlMappingNode)pod["spec"]).Children.ContainsKey("initContainers"));
        Assert.Equal("Directory", PluginContainerRules.Volume(pod, "socket-dir")["hostPath"]["type"].ToString());
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
                if (source.StartsWith(".build/image/", StringComparison.Ordinal))
                {
                    continue;
                }

                Assert.True(File.Exists(Repo(source)) || Directory.Exists(Repo(source)), $"Dockerfile copies {source}, which does not exist");
            }
        }

        var help = await PluginProcess.RunCliAsync(null, "serve", "--help");
        foreach (Match variable in Regex.Matches(dockerfile, "KMS_PLUGIN_[A-Z_]+"))
        {
            Assert.Contains(variable.Value, help.Output);
        }

        Assert.Contains("ENTRYPOINT [\"/app/kms-plugin\"]", dockerfile);
        Assert.Contains("<AssemblyName>kms-plugin</AssemblyName>", await File.ReadAllTextAsync(Repo("src/KmsPlugin.Server/KmsPlugin.Server.csproj")));
        Assert.Matches(@"(?m)^USER 1654:1654$", dockerfile);
    }

    [Fact]
    public async Task The_runtime_stage_needs_no_shell_and_the_prebuilt_binary_is_what_build_image_copies()
    {
        var dockerfile = await File.ReadAllTextAsync(Repo("Dockerfile"));
        var runtime = dockerfile[dockerfile.IndexOf("FROM ${RUNTIME_IMAGE}", StringComparison.Ordinal)..];
        Assert.DoesNotMatch(@"(?m)^(RUN|SHELL)\b", runtime);
        Assert.Contains("ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:", dockerfile);
        Assert.Contains("ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:", dockerfile);
        Assert.Contains("ARG BINARY=source", dockerfile);
        Assert.Contains($"COPY {PrebuiltBinary} {PrebuiltBinary}.cdx.json ", dockerfile);
        Assert.Contains($"cp \"$binary\" {PrebuiltBinary}", await File.ReadAllTextAsync(Repo("scripts/build-image.sh")));
        Assert.Contains($"!{PrebuiltBinary}", await File.ReadAllTextAsync(Repo(".dockerignore")));
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
