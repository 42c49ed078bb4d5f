using System.Text.RegularExpressions;
using KmsPlugin.Server.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace KmsPlugin.Server.Tests.Observability;

/// <summary>
/// charts/kms-plugin/files/alerts.yaml: promtool accepts it, its unit tests (alerts.test.yaml beside
/// this file) pass, and every alert the issue names is there with what an operator needs to act.
/// </summary>
public sealed partial class AlertRuleTests
{
    public static readonly string[] AlertNames =
    [
        "KmsPluginDown", "KmsPluginRootKeyUnhealthy", "KmsPluginRootKeyExpiringSoon", "KmsPluginRootKeyExpired",
        "KmsPluginRootKeysDiffer", "KmsPluginPrimaryDiffers", "KmsPluginErrorRate", "KmsPluginDecryptLatencyHigh",
        "KmsPluginDataKeyCacheThrashing",
    ];

    private static string UnitTests => Path.Combine(RepositoryPaths.Root, "tests/KmsPlugin.Server.Tests/Observability/alerts.test.yaml");

    [Fact]
    public async Task Promtool_accepts_the_rule_file()
    {
        var result = await ProcessRunner.RunAsync(PrometheusTools.Promtool, ["check", "rules", PrometheusTools.AlertRules]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"SUCCESS: {AlertNames.Length} rules found", result.Output);
    }

    [Fact]
    public async Task Promtool_unit_tests_of_every_alert_pass()
    {
        var result = await ProcessRunner.RunAsync(PrometheusTools.Promtool, ["test", "rules", UnitTests]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var tested = File.ReadAllText(UnitTests);
        Assert.All(AlertNames, name => Assert.Contains($"alertname: {name}\n        exp_alerts:", tested));
    }

    [Fact]
    public void Every_alert_has_a_severity_a_summary_a_command_and_a_runbook_section()
    {
        var rules = Rules(File.ReadAllText(PrometheusTools.AlertRules));
        Assert.Equal(AlertNames.Order(), rules.Select(r => r["alert"].ToString()).Order());
        var runbook = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs/alerts.md"));
        foreach (var rule in rules)
        {
            var name = rule["alert"].ToString();
            var annotations = (YamlMappingNode)rule["annotations"];
            Assert.Contains(rule["labels"]["severity"].ToString(), new[] { "critical", "warning" });
            Assert.False(string.IsNullOrWhiteSpace(annotations["summary"].ToString()), name);
            Assert.Matches(Command(), annotations["description"].ToString());
            Assert.Equal($"docs/alerts.md#{name.ToLowerInvariant()}", annotations["runbook_url"].ToString());
            Assert.Contains($"\n## {name}\n", runbook);
        }
    }

    /// <summary>The rules with every <c>for:</c> set to <paramref name="pendingFor"/>, as the end-to-end test loads them.</summary>
    public static string WithPendingPeriod(string rules, string pendingFor) => ForClause().Replace(rules, $"for: {pendingFor}");

    public static IReadOnlyList<YamlMappingNode> Rules(string text)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(text));
        var groups = (YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode)["groups"];
        return groups.Cast<YamlMappingNode>().SelectMany(g => ((YamlSequenceNode)g["rules"]).Cast<YamlMappingNode>()).ToList();
    }

    // A description names the command that resolves it, in backticks.
    [GeneratedRegex("`(kms-plugin|curl|sum by) [^`]+`")]
    private static partial Regex Command();

    [GeneratedRegex(@"for: [0-9]+[smh]")]
    private static partial Regex ForClause();
}
