using System.Text.RegularExpressions;
using KmsPlugin.Server.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace KmsPlugin.Server.Tests.Deployment;

/// <summary>
/// tests/e2e/kind/run.sh needs Docker, kind and kubectl, none of which CI has, so it never runs here.
/// What can be checked without them is: its syntax, that every repository file it names exists,
/// that its manifests parse, and that every kms-plugin command and flag it uses exists.
/// </summary>
public sealed partial class KindEndToEndTests
{
    private static readonly string KindDirectory = Path.Combine(RepositoryPaths.Root, "tests/e2e/kind");
    private static readonly string Script = Path.Combine(KindDirectory, "run.sh");

    [Fact]
    public async Task The_script_is_valid_bash()
    {
        var result = await ProcessRunner.RunAsync("bash", ["-n", Script]);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public void Every_repository_file_the_script_and_the_kind_config_name_exists()
    {
        var text = File.ReadAllText(Script) + File.ReadAllText(Path.Combine(KindDirectory, "kind-config.yaml"));
        var paths = RepositoryPath().Matches(text).Select(m => m.Groups["path"].Value.TrimEnd('.', '/')).Distinct().ToList();

        Assert.True(paths.Count >= 6, string.Join(", ", paths));
        foreach (var path in paths)
        {
            var full = Path.Combine(RepositoryPaths.Root, path);
            Assert.True(File.Exists(full) || Directory.Exists(full), $"run.sh names {path}, which does not exist");
        }

        // Files the node sees through the kind mounts (/kms-e2e is tests/e2e/kind, /kms-e2e-examples is charts/examples).
        foreach (Match mounted in NodePath().Matches(File.ReadAllText(Script)))
        {
            var directory = mounted.Groups["mount"].Value == "kms-e2e" ? "tests/e2e/kind" : "charts/examples";
            var name = mounted.Groups["file"].Value;
            Assert.True(name.StartsWith('$') || File.Exists(Path.Combine(RepositoryPaths.Root, directory, name)), $"run.sh reads /{mounted.Groups["mount"].Value}/{name} on the node, which does not exist");
        }
    }

    [Fact]
    public void Every_manifest_parses_as_yaml()
    {
        var files = Directory.GetFiles(KindDirectory, "*.yaml");
        Assert.True(files.Length >= 3);
        foreach (var file in files)
        {
            var stream = new YamlStream();
            using var reader = File.OpenText(file);
            stream.Load(reader);
            Assert.All(stream.Documents, d => Assert.IsType<YamlMappingNode>(d.RootNode));
        }
    }

    [Fact]
    public async Task The_static_pod_serves_a_softhsm_token_with_flags_serve_accepts_and_the_rotation_edit_matches_it()
    {
        var path = Path.Combine(KindDirectory, "kms-plugin-softhsm-static-pod.yaml");
        var stream = new YamlStream();
        using (var reader = File.OpenText(path))
        {
            stream.Load(reader);
        }

        var pod = (YamlMappingNode)stream.Documents.Single().RootNode;
        var container = PluginContainerRules.PluginContainer(pod);
        var flags = await PluginContainerRules.ServeFlagsAsync(container);
        PluginContainerRules.ProbesUseTheHealthPort(container, flags);
        PluginContainerRules.IsHardened(pod, container);
        PluginContainerRules.SharesTheSocketDirectory(pod, container, flags);
        Assert.Equal("pkcs11", flags["--provider"]);
        Assert.Equal("root-1", flags["--pkcs11-key"]);

        // run.sh rotates by rewriting this exact line of the manifest on the node.
        var script = await File.ReadAllTextAsync(Script);
        Assert.Contains("s|^        - --pkcs11-key=root-1$|", script);
        Assert.Contains("\n        - --pkcs11-key=root-1\n", await File.ReadAllTextAsync(path));
        Assert.Contains($"SOCKET={flags["--socket"]}\n", script);
        foreach (var config in new[] { "encryption-config-v1.yaml", "encryption-config-v2.yaml" })
        {
            Assert.Contains($"endpoint: unix://{flags["--socket"]}", await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "charts/examples", config)));
        }
    }

    [Fact]
    public async Task Every_kms_plugin_command_the_script_and_pods_run_exists_with_its_flags()
    {
        var commands = new List<(string Command, string Arguments)>();
        var script = await File.ReadAllTextAsync(Script);
        commands.AddRange(PluginCall().Matches(script).Select(m => (m.Groups["command"].Value, m.Groups["args"].Value)));
        commands.AddRange(ExecutableCall().Matches(await File.ReadAllTextAsync(Path.Combine(KindDirectory, "kms-plugin-softhsm-static-pod.yaml")))
            .Select(m => (m.Groups["command"].Value, m.Groups["args"].Value)));
        commands.Add(("etcd verify", string.Join(' ', EtcdVerifyArgs())));

        Assert.Contains(commands, c => c.Command == "pkcs11 keygen");
        Assert.Contains(commands, c => c.Command == "pkcs11 promote");
        Assert.Contains(commands, c => c.Command == "status" && c.Arguments.Contains("--json"));
        var p11 = P11Array().Match(script).Groups["args"].Value;
        foreach (var (command, arguments) in commands)
        {
            var help = await PluginProcess.RunCliAsync(null, [.. command.Split(' '), "--help"]);
            Assert.True(help.ExitCode == 0, $"kms-plugin {command}: {help}");
            foreach (Match flag in Flag().Matches(arguments.Replace("\"${P11[@]}\"", p11, StringComparison.Ordinal)))
            {
                // An option's names share its line: "  --module, --pkcs11-module <…>" (the first an alias).
                Assert.True(Regex.IsMatch(help.Output, $@"^ +(--?[\w-]+, )*{Regex.Escape(flag.Value)}[ ,]", RegexOptions.Multiline),
                    $"`kms-plugin {command} --help` does not list {flag.Value}");
            }
        }
    }

    private static IEnumerable<string> EtcdVerifyArgs()
    {
        var stream = new YamlStream();
        using var reader = File.OpenText(Path.Combine(KindDirectory, "etcd-verify-pod.yaml"));
        stream.Load(reader);
        var container = (YamlMappingNode)((YamlSequenceNode)stream.Documents.Single().RootNode["spec"]["containers"]).Single();
        var args = ((YamlSequenceNode)container["args"]).Select(a => a.ToString()).ToList();
        Assert.Equal(["etcd", "verify"], args.Take(2));
        return args.Skip(2).Select(a => a.Split('=')[0]);
    }

    [GeneratedRegex(@"\$REPO/(?<path>[A-Za-z0-9_./-]+)|@REPO@/(?<path>[A-Za-z0-9_./-]+)")]
    private static partial Regex RepositoryPath();

    [GeneratedRegex(@"/(?<mount>kms-e2e|kms-e2e-examples)/(?<file>[A-Za-z0-9_.$-]+)")]
    private static partial Regex NodePath();

    [GeneratedRegex(@"(?m)^\s*(?:[a-z].*\|\s*)?plugin (?<command>pkcs11 [a-z]+|etcd [a-z]+|status)(?<args>[^\n|]*)")]
    private static partial Regex PluginCall();

    [GeneratedRegex(@"/app/kms-plugin (?<command>pkcs11 [a-z]+|etcd [a-z]+|status)(?<args>[^\n]*)")]
    private static partial Regex ExecutableCall();

    [GeneratedRegex(@"P11=\((?<args>[^)]*)\)")]
    private static partial Regex P11Array();

    [GeneratedRegex(@"--[a-z0-9][a-z0-9-]*")]
    private static partial Regex Flag();
}
