namespace KmsPlugin.Tests.Shared;

internal static class RepositoryPaths
{
    /// <summary>The folder holding KmsPlugin.sln, found by walking up from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A file under <c>../shared/testdata/</c>; fails (never skips) when it is missing.</summary>
    public static string SharedTestData(params string[] parts)
    {
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine([Root, "..", "shared", "testdata", .. parts]));
        Assert.True(File.Exists(path), $"test data missing: {path} (expected at ../shared/testdata relative to the repository root)");
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "KmsPlugin.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no folder containing KmsPlugin.sln above {AppContext.BaseDirectory}");
    }
}
