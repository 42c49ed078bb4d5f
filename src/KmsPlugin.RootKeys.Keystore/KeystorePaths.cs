namespace KmsPlugin.RootKeys.Keystore;

/// <summary>Checks on where a keystore file lives: Unix only, never over something that exists, writes through symbolic links.</summary>
internal static class KeystorePaths
{
    public static void RefuseExisting(string path)
    {
        if (File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            throw KeystoreErrors.Unavailable(path, "something already exists at this path; refusing to overwrite it");
        }
    }

    /// <summary>Where writes go: the final target when <paramref name="path"/> is a symbolic link, so the link survives.</summary>
    public static string WriteTarget(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is null ? path : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
    }

    public static void RequireUnix()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the software keystore relies on Unix file modes");
        }
    }
}
