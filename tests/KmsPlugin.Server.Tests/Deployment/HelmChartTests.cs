using Json.Schema;
using KmsPlugin.Server.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace KmsPlugin.Server.Tests.Deployment;

/// <summary>
/// charts/kms-plugin rendered by chart-render (the stand-in for `helm template`, see
/// tests/chart-render) with the value sets an operator uses; every document must parse, the plugin
/// container must only use flags `serve --help` lists, and values.schema.json must accept the
/// chart's own values and refuse bad ones. No cluster runs here, so nothing is applied.
/// </summary>
public sealed class HelmChartTests : IDisposable
{
    private const string SoftwareFromSecret = """
        software:
          source: secret
          secretName: kms-plugin-keystore
        """;

    private const string Pkcs11 = """
        provider: pkcs11
        pkcs11:
          moduleHostDirectory: /usr/lib/softhsm
          token: kms
          key: root-2026-11
          decryptKeys: [root-2026-05, root-2025-11]
          pinSecret:
            name: kms-plugin-pin
        extraEnv:
          - name: SOFTHSM2_CONF
            value: /var/lib/softhsm/softhsm2.conf
        """;

    private const string MetricsExposed = """
        health:
          port: 9797
        metrics:
          expose: true
          serviceMonitor:
            enabled: true
        """;

    // Loaded once: JsonSchema.Net registers every schema it loads globally, by URI.
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromFile(Path.Combine(ChartRenderer.ChartDirectory, "values.schema.json")));

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string> ValueSets => new()
    {
        { "software keystore from a hostPath (the defaults)", "" },
        { "software keystore from a Secret", SoftwareFromSecret },
        { "PKCS#11 token with a PIN Secret", Pkcs11 },
        { "metrics exposed with a ServiceMonitor", MetricsExposed },
    };

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_value_set_renders_a_hardened_daemonset_on_the_control_plane(string name, string values)
    {
        var documents = await RenderAsync(values);
        var daemonSet = Single(documents, "DaemonSet");
        var pod = (YamlMappingNode)daemonSet["spec"]["template"];
        var container = PluginContainerRules.PluginContainer(pod);
        var flags = await PluginContainerRules.ServeFlagsAsync(container);

        PluginContainerRules.ProbesUseTheHealthPort(container, flags);
        PluginContainerRules.IsHardened(pod, container);
        PluginContainerRules.SharesTheSocketDirectory(pod, container, flags);
        Assert.True(pod["spec"]["hostNetwork"].ToString() == "true", $"{name}: not on the host network");
        Assert.Equal("", pod["spec"]["nodeSelector"]["node-role.kubernetes.io/control-plane"].ToString());
        Assert.Contains(((YamlSequenceNode)pod["spec"]["tolerations"]).Cast<YamlMappingNode>(),
            t => t["key"].ToString() == "node-role.kubernetes.io/control-plane" && t["effect"].ToString() == "NoSchedule");
        Assert.Equal("/var/run/kmsplugin/kms.sock", flags["--socket"]);

        // The secrets the plugin reads sit in one read-only directory, never in args or env values.
        var mounts = PluginContainerRules.Mounts(container);
        var secretFlags = flags.Where(f => f.Key is "--passphrase-file" or "--pkcs11-pin-file" or "--keystore").ToList();
        Assert.NotEmpty(secretFlags);
        Assert.All(secretFlags, f => Assert.Contains(mounts, m => m.Path == Path.GetDirectoryName(f.Value) && m.ReadOnly));
    }

    [Fact]
    public async Task The_keystore_comes_from_a_hostPath_by_default_and_from_a_secret_copied_to_memory_on_request()
    {
        var hostPath = (YamlMappingNode)Single(await RenderAsync(""), "DaemonSet")["spec"]["template"];
        Assert.Equal("/etc/kms-plugin", PluginContainerRules.Volume(hostPath, "keys")["hostPath"]["path"].ToString());
        Assert.Equal("software", (await PluginContainerRules.ServeFlagsAsync(PluginContainerRules.PluginContainer(hostPath)))["--provider"]);

        var fromSecret = (YamlMappingNode)Single(await RenderAsync(SoftwareFromSecret), "DaemonSet")["spec"]["template"];
        Assert.Equal("kms-plugin-keystore", PluginContainerRules.Volume(fromSecret, "secret-source")["secret"]["secretName"].ToString());
        Assert.Equal("Memory", PluginContainerRules.Volume(fromSecret, "keys")["emptyDir"]["medium"].ToString());
        // The plugin image has no shell: the init container runs on prepareImage.
        Assert.Equal("docker.io/library/busybox:1.37", InitContainer(fromSecret)["image"].ToString());
        var script = ((YamlSequenceNode)InitContainer(fromSecret)["command"])[2].ToString();
        Assert.Contains("cp /run/kms-plugin-source/keystore.json /etc/kms-plugin/keystore.json", script);
        Assert.Contains("chmod 0600 /etc/kms-plugin/*", script);
    }

    [Fact]
    public async Task Pkcs11_values_become_the_pkcs11_flags_with_the_pin_from_its_secret()
    {
        var pod = (YamlMappingNode)Single(await RenderAsync(Pkcs11), "DaemonSet")["spec"]["template"];
        var container = PluginContainerRules.PluginContainer(pod);
        var args = ((YamlSequenceNode)container["args"]).Select(a => a.ToString()).ToList();

        Assert.Contains("--provider=pkcs11", args);
        Assert.Contains("--pkcs11-module=/usr/lib/softhsm/libsofthsm2.so", args);
        Assert.Contains("--pkcs11-token=kms", args);
        Assert.Contains("--pkcs11-key=root-2026-11", args);
        Assert.Equal(["--pkcs11-decrypt-key=root-2026-05", "--pkcs11-decrypt-key=root-2025-11"], args.Where(a => a.StartsWith("--pkcs11-decrypt-key=", StringComparison.Ordinal)));
        Assert.Contains("--pkcs11-pin-file=/etc/kms-plugin/pin", args);
        Assert.DoesNotContain(args, a => a.StartsWith("--keystore", StringComparison.Ordinal));
        Assert.Equal("kms-plugin-pin", PluginContainerRules.Volume(pod, "secret-source")["secret"]["secretName"].ToString());
        Assert.Contains(PluginContainerRules.Mounts(container), m => m.Path == "/usr/lib/softhsm" && m.ReadOnly);
    }

    [Fact]
    public async Task Metrics_stay_on_loopback_unless_exposed_and_the_service_monitor_needs_them_exposed()
    {
        var defaults = await RenderAsync("");
        Assert.Equal(["DaemonSet"], defaults.Select(Kind));
        Assert.Contains("--health-address=127.0.0.1:8787", Args(defaults));

        var exposed = await RenderAsync(MetricsExposed);
        Assert.Equal(["DaemonSet", "Service", "ServiceMonitor"], exposed.Select(Kind));
        Assert.Contains("--health-address=0.0.0.0:9797", Args(exposed));
        Assert.Equal("9797", ((YamlSequenceNode)Single(exposed, "Service")["spec"]["ports"])[0]["port"].ToString());
        Assert.Equal("metrics", ((YamlSequenceNode)Single(exposed, "ServiceMonitor")["spec"]["endpoints"])[0]["port"].ToString());

        var refused = await ChartRenderer.RenderAsync(_dir, "metrics: {serviceMonitor: {enabled: true}}");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("metrics.serviceMonitor.enabled needs metrics.expose: true", refused.Error);
    }

    [Theory]
    [InlineData("provider: pkcs11\npkcs11: {key: root, pinSecret: {name: pin}}", "pkcs11.token is required with provider pkcs11")]
    [InlineData("provider: pkcs11\npkcs11: {token: kms, key: root}", "pkcs11.pinSecret.name is required with provider pkcs11")]
    [InlineData("software: {source: secret}", "software.secretName is required with software.source: secret")]
    public async Task Incomplete_values_fail_to_render_with_what_is_missing(string values, string message)
    {
        var result = await ChartRenderer.RenderAsync(_dir, values);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public async Task The_schema_accepts_the_charts_values_and_every_value_set()
    {
        foreach (var values in new[] { "", SoftwareFromSecret, Pkcs11, MetricsExposed })
        {
            var result = await ValidateAsync(values);
            Assert.True(result.IsValid, $"values.schema.json refused:\n{values}\n{Errors(result)}");
        }
    }

    [Theory]
    [InlineData("provider: aws")]
    [InlineData("health: {port: 70000}")]
    [InlineData("socket: {hostDirectory: var/run/kmsplugin}")]
    [InlineData("socket: {mode: \"777\"}")]
    [InlineData("logLevel: Verbose")]
    [InlineData("shutdownGrace: ten seconds")]
    [InlineData("replicas: 3")]
    [InlineData("provider: pkcs11\npkcs11: {token: kms, pinSecret: {name: pin}}")]
    [InlineData("provider: pkcs11\npkcs11: {token: kms, key: root, pinSecret: {name: \"\"}}")]
    [InlineData("software: {source: secret}")]
    [InlineData("pkcs11: {decryptKeys: [\"a,b\"]}")]
    [InlineData("priorityClassName: \"\"")]
    public async Task The_schema_refuses_bad_values(string values)
    {
        var result = await ValidateAsync(values);
        Assert.False(result.IsValid, $"values.schema.json accepted:\n{values}");
    }

    [Fact]
    public async Task The_notes_render_with_the_socket_and_the_key_check_value_command()
    {
        var notes = await ChartRenderer.RenderAsync(_dir, "", "-notes");
        Assert.True(notes.ExitCode == 0, notes.ToString());
        Assert.Contains("unix:///var/run/kmsplugin/kms.sock", notes.Output);
        Assert.Contains("status", notes.Output);
        Assert.Contains("--json", notes.Output);
    }

    private async Task<EvaluationResults> ValidateAsync(string values)
    {
        var merged = await ChartRenderer.RenderAsync(_dir, values, "-values-json");
        Assert.True(merged.ExitCode == 0, merged.ToString());
        using var document = System.Text.Json.JsonDocument.Parse(merged.Output);
        return Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    private static string Errors(EvaluationResults result) =>
        string.Join("\n", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    private async Task<List<YamlMappingNode>> RenderAsync(string values)
    {
        var result = await ChartRenderer.RenderAsync(_dir, values);
        Assert.True(result.ExitCode == 0, result.ToString());
        var stream = new YamlStream();
        stream.Load(new StringReader(result.Output));
        var documents = stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
        Assert.NotEmpty(documents);
        Assert.All(documents, d => Assert.Equal("kube-system", d["metadata"]["namespace"].ToString()));
        return documents;
    }

    private static string Kind(YamlMappingNode document) => document["kind"].ToString();

    private static YamlMappingNode Single(List<YamlMappingNode> documents, string kind) => documents.Single(d => Kind(d) == kind);

    private static YamlMappingNode InitContainer(YamlMappingNode pod) => (YamlMappingNode)((YamlSequenceNode)pod["spec"]["initContainers"]).Single();

    private static List<string> Args(List<YamlMappingNode> documents) =>
        ((YamlSequenceNode)PluginContainerRules.PluginContainer((YamlMappingNode)Single(documents, "DaemonSet")["spec"]["template"])["args"]).Select(a => a.ToString()).ToList();
}
