namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// Debian's `prometheus` package (prometheus and promtool in /usr/bin), which scripts/test.sh
/// installs. Fails, never skips, when it is missing, so CI cannot pass without the rule tests.
/// </summary>
internal static class PrometheusTools
{
    public static string AlertRules => Path.Combine(RepositoryPaths.Root, "charts/kms-plugin/files/alerts.yaml");

    public static string Promtool => Find("promtool");

    public static string Prometheus => Find("prometheus");

    private static string Find(string name)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
        return found ?? throw new InvalidOperationException(
            $"{name} not found on PATH: install the Debian package prometheus (scripts/test.sh does: scripts/install-debian-packages.sh prometheus)");
    }
}
