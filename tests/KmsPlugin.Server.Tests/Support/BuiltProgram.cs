namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// A program scripts/test.sh builds before the tests (Go client, grpc-go baseline, chart renderer):
/// the path its variable names, else its place under .build/bin. Fails, never skips, when missing.
/// </summary>
internal static class BuiltProgram
{
    public static string Find(string variable, string fileName, string what, string buildScript)
    {
        var path = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryPaths.Root, ".build/bin", fileName);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{what} not found at {path}: run scripts/test.sh (or scripts/{buildScript}) first");
        }

        return path;
    }
}
