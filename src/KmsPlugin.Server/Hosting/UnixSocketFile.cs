using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KmsPlugin.Server.Hosting;

/// <summary>
/// The socket path's life: parent directory created, a stale socket removed (never a regular
/// file or a socket another process still serves), created with no group/other access, set to
/// the configured mode, removed on shutdown.
/// </summary>
internal static class UnixSocketFile
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Every problem that stops the path being used, empty when it is ready to bind.</summary>
    public static IReadOnlyList<string> Check(string path)
    {
        var problems = new List<string>();
        if (!Path.IsPathFullyQualified(path))
        {
            problems.Add($"socket path \"{path}\" must be absolute");
            return problems;
        }

        if (System.Text.Encoding.UTF8.GetByteCount(path) > 107)
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

    /// <summary>Runs <paramref name="bind"/> with a umask that keeps group and others off the new socket.</summary>
    public static async Task BindPrivatelyAsync(string path, UnixFileMode mode, Func<Task> bind)
    {
        var previous = umask(0x7F); // 0177: no group or other bits
        try
        {
            await bind().ConfigureAwait(false);
        }
        finally
        {
            umask(previous);
        }

        File.SetUnixFileMode(path, mode);
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

    [DllImport("libc")]
    private static extern uint umask(uint mask);
}
