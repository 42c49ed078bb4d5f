namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// tests/chart-render, the offline stand-in for `helm template` that scripts/test.sh builds from
/// Debian's sprig (no helm binary exists here). Fails, never skips, when it has not been built.
/// </summary>
internal static class ChartRenderer
{
    public static string ChartDirectory => System.IO.Path.Combine(RepositoryPaths.Root, "charts/kms-plugin");

    public static string Path => BuiltProgram.Find("KMS_PLUGIN_CHART_RENDERER", "chart-render", "chart renderer", "build-chart-renderer.sh");

    /// <summary>Renders the chart with <paramref name="values"/> (YAML) merged over values.yaml.</summary>
    public static Task<ProcessResult> RenderAsync(TempDirectory directory, string values, params string[] extra) =>
        ProcessRunner.RunAsync(Path, ["-chart", ChartDirectory, "-f", Write(directory, values), .. extra]);

    private static string Write(TempDirectory directory, string values)
    {
        var file = directory.File($"values-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, values);
        return file;
    }
}
