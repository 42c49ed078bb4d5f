namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// How the process-level tests start kms-plugin: `dotnet kms-plugin.dll` from the test output (the
/// JIT build), or the executable <c>KMS_PLUGIN_EXECUTABLE</c> names, which scripts/test.sh sets to
/// the NativeAOT binary for its second run of the <see cref="Category"/> tests.
/// </summary>
internal static class PluginExecutable
{
    public const string Variable = "KMS_PLUGIN_EXECUTABLE";

    /// <summary>Trait name and value of the suites scripts/test.sh re-runs against the native binary.</summary>
    public const string Trait = "Binary";

    public const string Category = "process";

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "kms-plugin.dll");

    /// <summary>The configured native executable, or null for the JIT build. A name that is not a file fails, never falls back.</summary>
    public static string? Native
    {
        get
        {
            if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } path)
            {
                return null;
            }

            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"{Variable}={path} is not a file: run scripts/publish-aot.sh first");
            }

            return Path.GetFullPath(path);
        }
    }

    /// <summary>The program to start and the arguments that precede the plugin's own.</summary>
    public static (string FileName, string[] Arguments) Command(params string[] arguments) =>
        Native is { } native ? (native, arguments) : ("dotnet", [Dll, .. arguments]);
}
