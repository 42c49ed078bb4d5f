using System.Net.Sockets;

namespace KmsPlugin.Server.Hosting;

/// <summary>
/// The socket path's life: parent directory created, a stale socket removed (never a regular
/// file or a socket another process still serves), bound in a private staging directory, given
/// the configured mode there and only then renamed into place (so no client ever sees it with
/// looser permissions), removed on shutdown.
/// </summary>
internal static class UnixSocketFile
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Bytes the staging path adds to the parent: "/.kmsp-" + 8 hex + "/k".</summary>
    private const int StagingOverhead = 17;

    /// <summary>Every problem that stops the path being used, empty when it is ready to bind.</summary>
    public static IReadOnlyList<string> Check(string path)
    {
        var problems = new List<string>();
        if (!Path.IsPathFullyQualified(path))
        {
            problems.Add($"socket path \"{path}\" must be absolute");
            return problems;
        }

        var parentLength = System.Text.Encoding.UTF8.GetByteCount(Path.GetDirectoryName(path) ?? "");
        if (Math.Max(System.Text.Encoding.UTF8.GetByteCount(path), parentLength + StagingOverhead) > 107)
        {
            problems.Add($"socket path \"{path}\" is longer than the 107 bytes a unix socket path may have");
        }

        if (Directory.Exists(path))
        {
            problems.Add($"socket path \"{path}\" is a directory");
        }
        else if (File.Exists(path) && !UnixFileType.IsSocket(path))
        {
            problems.Add($"socket path \"{path}\" exists and is not a socket; refusing to delete it");
        }

        return problems;
    }

    /// <summary>Creates the parent directory and removes a stale socket at <paramref name="path"/>.</summary>
    public static void Prepare(string path)
    {
        var problems = Check(path);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }

        var parent = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(parent))
        {
            Directory.CreateDirectory(parent, DirectoryMode);
        }

        if (IsServed(path))
        {
            throw new InvalidOperationException($"another process is serving on socket \"{path}\"");
        }

        // Check has made sure that anything at the path is a socket: a stale one.
        File.Delete(path);
    }

    /// <summary>A path in a new owner-only directory beside <paramref name="path"/>, to bind before publishing.</summary>
    public static string CreateStagingPath(string path)
    {
        var directory = Path.Combine(Path.GetDirectoryName(path)!, ".kmsp-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)));
        Directory.CreateDirectory(directory, DirectoryMode);
        return Path.Combine(directory, "k");
    }

    /// <summary>Sets the bound socket's mode, then renames it to <paramref name="path"/>.</summary>
    public static void Publish(string stagingPath, string path, UnixFileMode mode)
    {
        File.SetUnixFileMode(stagingPath, mode);
        File.Move(stagingPath, path, overwrite: false);
        DiscardStaging(stagingPath);
    }

    public static void DiscardStaging(string stagingPath)
    {
        var directory = Path.GetDirectoryName(stagingPath)!;
        if (UnixFileType.IsSocket(stagingPath))
        {
            File.Delete(stagingPath);
        }

        if (Directory.Exists(directory))
        {
            Directory.Delete(directory);
        }
    }

    public static void Remove(string path)
    {
        if (UnixFileType.IsSocket(path))
        {
            File.Delete(path);
        }
    }

    private static bool IsServed(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
