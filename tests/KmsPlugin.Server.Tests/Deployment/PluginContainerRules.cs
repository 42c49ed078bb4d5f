using KmsPlugin.Server.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace KmsPlugin.Server.Tests.Deployment;

/// <summary>
/// What every manifest that runs the plugin container must get right (static pod, Helm chart, the
/// kind end-to-end pod): only flags that `serve --help` lists, probes on the health port, hardening.
/// </summary>
internal static class PluginContainerRules
{
    private static readonly Lazy<Task<string>> ServeHelp = new(async () => (await PluginProcess.RunCliAsync(null, "serve", "--help")).Output);

    /// <summary>Checks the args are `serve` plus --flag=value pairs that serve accepts; returns them (repeatable flags keep the last value).</summary>
    public static async Task<Dictionary<string, string>> ServeFlagsAsync(YamlMappingNode container)
    {
        var args = ((YamlSequenceNode)container["args"]).Select(a => a.ToString()).ToList();
        Assert.Equal("serve", args[0]);
        var help = await ServeHelp.Value;
        var flags = new Dictionary<string, string>();
        foreach (var arg in args.Skip(1))
        {
            var parts = arg.Split('=', 2);
            Assert.True(parts.Length == 2, $"argument \"{arg}\" is not --flag=value");
            Assert.True(help.Contains($"  {parts[0]} ", StringComparison.Ordinal), $"`kms-plugin serve --help` does not list {parts[0]}");
            flags[parts[0]] = parts[1];
        }

        return flags;
    }

    /// <summary>Liveness and startup on /livez, readiness on /readyz, all on --health-address's port.</summary>
    public static void ProbesUseTheHealthPort(YamlMappingNode container, IReadOnlyDictionary<string, string> flags)
    {
        var port = flags["--health-address"].Split(':')[1];
        foreach (var (probe, path) in new[] { ("livenessProbe", "/livez"), ("readinessProbe", "/readyz"), ("startupProbe", "/livez") })
        {
            var httpGet = container[probe]["httpGet"];
            Assert.Equal(port, httpGet["port"].ToString());
            Assert.Equal(path, httpGet["path"].ToString());
            Assert.Equal("127.0.0.1", httpGet["host"].ToString());
        }
    }

    public static void IsHardened(YamlMappingNode pod, YamlMappingNode container)
    {
        Assert.Equal("system-node-critical", pod["spec"]["priorityClassName"].ToString());
        Assert.Equal("true", pod["spec"]["securityContext"]["runAsNonRoot"].ToString());
        Assert.Equal("ALL", ((YamlSequenceNode)container["securityContext"]["capabilities"]["drop"]).Single().ToString());
        Assert.Equal("true", container["securityContext"]["readOnlyRootFilesystem"].ToString());
        Assert.Equal("false", container["securityContext"]["allowPrivilegeEscalation"].ToString());
    }

    /// <summary>The socket's directory is a hostPath mounted read-write at the same path, so kube-apiserver finds the socket there.</summary>
    public static void SharesTheSocketDirectory(YamlMappingNode pod, YamlMappingNode container, IReadOnlyDictionary<string, string> flags)
    {
        var socketDir = Path.GetDirectoryName(flags["--socket"])!;
        var mount = Mounts(container).Single(m => m.Path == socketDir);
        Assert.False(mount.ReadOnly);
        Assert.Equal(socketDir, Volume(pod, mount.Name)["hostPath"]["path"].ToString());
    }

    public static List<(string Name, string Path, bool ReadOnly)> Mounts(YamlMappingNode container) =>
        ((YamlSequenceNode)container["volumeMounts"]).Cast<YamlMappingNode>()
            .Select(m => (m["name"].ToString(), m["mountPath"].ToString(), m.Children.TryGetValue(new YamlScalarNode("readOnly"), out var ro) && ro.ToString() == "true"))
            .ToList();

    public static YamlMappingNode Volume(YamlMappingNode pod, string name) =>
        ((YamlSequenceNode)pod["spec"]["volumes"]).Cast<YamlMappingNode>().Single(v => v["name"].ToString() == name);

    public static YamlMappingNode PluginContainer(YamlMappingNode pod) =>
        ((YamlSequenceNode)pod["spec"]["containers"]).Cast<YamlMappingNode>().Single(c => c["name"].ToString() == "kms-plugin");
}
