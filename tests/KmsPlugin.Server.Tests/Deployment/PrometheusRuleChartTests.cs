using Json.Schema;
using KmsPlugin.Server.Tests.Observability;
using KmsPlugin.Server.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace KmsPlugin.Server.Tests.Deployment;

/// <summary>
/// prometheusRule.enabled renders files/alerts.yaml, unchanged, as a Prometheus-operator
/// PrometheusRule; off by default; values.schema.json knows the new values.
/// </summary>
public sealed class PrometheusRuleChartTests : IDisposable
{
    // A base URI of its own: JsonSchema.Net registers schemas globally, and HelmChartTests loads the file by its path.
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(
        File.ReadAllText(Path.Combine(ChartRenderer.ChartDirectory, "values.schema.json")),
        baseUri: new Uri("urn:kms-plugin:prometheus-rule-chart-tests:values.schema.json")));

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task No_rule_by_default()
    {
        var result = await ChartRenderer.RenderAsync(_dir, "");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("PrometheusRule", result.Output);
    }

    [Fact]
    public async Task Enabled_it_renders_every_alert_of_the_rule_file_with_the_selector_labels()
    {
        var result = await ChartRenderer.RenderAsync(_dir, "prometheusRule: {enabled: true, labels: {release: prometheus}}");
        Assert.True(result.ExitCode == 0, result.ToString());
        var stream = new YamlStream();
        stream.Load(new StringReader(result.Output));
        var rule = stream.Documents.Select(d => (YamlMappingNode)d.RootNode).Single(d => d["kind"].ToString() == "PrometheusRule");

        Assert.Equal("monitoring.coreos.com/v1", rule["apiVersion"].ToString());
        Assert.Equal("kube-system", rule["metadata"]["namespace"].ToString());
        Assert.Equal("prometheus", rule["metadata"]["labels"]["release"].ToString());
        var rendered = ((YamlSequenceNode)rule["spec"]["groups"]).Cast<YamlMappingNode>()
            .SelectMany(g => ((YamlSequenceNode)g["rules"]).Cast<YamlMappingNode>()).ToList();
        var file = AlertRuleTests.Rules(await File.ReadAllTextAsync(PrometheusTools.AlertRules));
        Assert.Equal(AlertRuleTests.AlertNames.Order(), rendered.Select(r => r["alert"].ToString()).Order());
        Assert.Equal(file.Select(r => r["expr"].ToString()), rendered.Select(r => r["expr"].ToString()));
        Assert.Equal(file.Select(r => r["annotations"]["description"].ToString()), rendered.Select(r => r["annotations"]["description"].ToString()));
    }

    [Fact]
    public async Task Runbook_links_can_point_at_where_the_docs_are_hosted()
    {
        var result = await ChartRenderer.RenderAsync(_dir, "prometheusRule: {enabled: true, runbookBaseUrl: \"https://git.example.org/kms-plugin/blob/v1/\"}");
        Assert.True(result.ExitCode == 0, result.ToString());
        var links = result.Output.Split('\n').Where(l => l.Contains("runbook_url:", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.Equal(AlertRuleTests.AlertNames.Length, links.Count);
        Assert.All(links, l => Assert.StartsWith("runbook_url: https://git.example.org/kms-plugin/blob/v1/docs/alerts.md#kmsplugin", l));
    }

    [Theory]
    [InlineData("prometheusRule: {enabled: true}", true)]
    [InlineData("prometheusRule: {enabled: true, labels: {release: prometheus}}", true)]
    [InlineData("prometheusRule: {enabled: \"yes\"}", false)]
    [InlineData("prometheusRule: {enabled: true, for: 1m}", false)]
    [InlineData("prometheusRule: {labels: {release: 1}}", false)]
    [InlineData("prometheusRule: {runbookBaseUrl: \"https://git.example.org/kms-plugin/blob/v1/\"}", true)]
    [InlineData("prometheusRule: {runbookBaseUrl: \"git.example.org/docs\"}", false)]
    public async Task The_schema_knows_the_prometheus_rule_values(string values, bool valid)
    {
        var merged = await ChartRenderer.RenderAsync(_dir, values, "-values-json");
        Assert.True(merged.ExitCode == 0, merged.ToString());
        using var document = System.Text.Json.JsonDocument.Parse(merged.Output);
        Assert.Equal(valid, Schema.Value.Evaluate(document.RootElement).IsValid);
    }
}
