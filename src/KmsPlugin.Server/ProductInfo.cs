using System.Reflection;

namespace KmsPlugin.Server;

internal static class ProductInfo
{
    public const string RuntimeName = "kms-plugin";

    /// <summary>Semver of this build; a "+commit" suffix, if any, is kept out of it.</summary>
    public static string Version { get; } = ReadVersion();

    public static string Commit { get; } = ReadCommit();

    private static string Informational =>
        typeof(ProductInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    private static string ReadVersion()
    {
        var version = Informational;
        var plus = version.IndexOf('+');
        return plus < 0 ? version : version[..plus];
    }

    private static string ReadCommit()
    {
        var version = Informational;
        var plus = version.IndexOf('+');
        return plus < 0 ? "unknown" : version[(plus + 1)..];
    }
}
