using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KmsPlugin.Server.Hosting;

/// <summary>
/// The socket path's life: parent directory created, a stale socket removed (never a regular
/// file or a socket another process still serves), bound in a private staging directory, given
/// the configured mode there and only then linked into place (so no client ever sees it with
/// looser permissions), removed on shutdown only while it is still the one this process bound.
/// </summary>
internal static class UnixSocketFile
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Bytes the staging path adds to the parent: "/.kmsp-" + 8 hex + "/k".</summary>
    private const int StagingOverhead = 17;

    private const int AlreadyExists = 17; // EEXIST

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
            throw new PluginStartException(string.Join("; ", problems));
        }

        var parent = Path.GetDirectoryName(path)!;
        try
        {
            if (!Directory.Exists(parent))
            {
                Directory.CreateDirectory(parent, DirectoryMode);
            }

            // Check has made sure that anything at the path is a socket.
            if (UnixFileType.SocketIdentity(path) is not { } stale)
            {
                return;
            }

            if (IsServed(path))
            {
                throw new PluginStartException(Served(path));
            }

            // Only the socket found stale: a plugin starting at the same moment may have put its own there since.
            RemoveIfSame(path, stale);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw NotWritable(parent, ex);
        }
    }

    /// <summary>A path in a new owner-only directory beside <paramref name="path"/>, to bind before publishing.</summary>
    public static string CreateStagingPath(string path)
    {
        var parent = Path.GetDirectoryName(path)!;
        var directory = Path.Combine(parent, ".kmsp-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)));
        try
        {
            Directory.CreateDirectory(directory, DirectoryMode);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw NotWritable(parent, ex);
        }

        return Path.Combine(directory, "k");
    }

    /// <summary>
    /// Sets the bound socket's mode, then links it to <paramref name="path"/>; link(2), unlike
    /// rename(2), never replaces a socket another plugin published first. Returns what was published.
    /// </summary>
    public static UnixFileIdentity Publish(string stagingPath, string path, UnixFileMode mode)
    {
        File.SetUnixFileMode(stagingPath, mode);
        if (link(stagingPath, path) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno == AlreadyExists
                ? new PluginStartException(Served(path))
                : NotWritable(Path.GetDirectoryName(path)!, new IOException(Marshal.GetPInvokeErrorMessage(errno)));
        }

        DiscardStaging(stagingPath);
        return UnixFileType.SocketIdentity(path) ?? throw new PluginStartException($"socket \"{path}\" was removed by another process as it was published");
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

    /// <summary>Removes the socket at <paramref name="path"/> only if it is still <paramref name="published"/>; true when removed.</summary>
    public static bool RemoveIfSame(string path, UnixFileIdentity published)
    {
        if (UnixFileType.SocketIdentity(path) != published)
        {
            return false;
        }

        File.Delete(path);
        return true;
    }

    private static string Served(string path) =>
        $"another process is serving on socket \"{path}\" (another kms-plugin on this node?); stop it, or set {Configuration.ServeSettings.Socket.Flag} to another path";

    private static PluginStartException NotWritable(string directory, Exception ex) => new(
        $"cannot create the socket in \"{directory}\" as user {Environment.UserName}: {(ex is UnauthorizedAccessException ? "permission denied" : ex.Message)}; " +
        $"set {Configuration.ServeSettings.Socket.Flag} to a directory this user may write, or give the directory to this user",
        ex);

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

    [DllImport("libc", SetLastError = true)]
    private static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
}
