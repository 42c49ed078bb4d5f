using System.Runtime.InteropServices;

namespace KmsPlugin.Server.Hosting;

/// <summary>
/// The file type at a path, from lstat(2). .NET reports a socket as an ordinary file, and the
/// socket path must never delete a regular file, nor a socket another process bound, so we ask the kernel.
/// </summary>
internal static class UnixFileType
{
    private const uint TypeMask = 0xF000;   // S_IFMT   0170000
    private const uint Socket = 0xC000;     // S_IFSOCK 0140000

    // Offsets in glibc's struct stat: st_dev at 0 and st_ino at 8 on both; st_ctim at 104 on both.
    private const int DeviceOffset = 0;
    private const int InodeOffset = 8;
    private const int ChangeTimeOffset = 104;

    public static bool IsSocket(string path) =>
        Stat(path) is { } buffer && (BitConverter.ToUInt32(buffer, ModeOffset) & TypeMask) == Socket;

    /// <summary>The socket at <paramref name="path"/>, or null when there is none (or something else).</summary>
    public static UnixFileIdentity? SocketIdentity(string path)
    {
        if (Stat(path) is not { } buffer || (BitConverter.ToUInt32(buffer, ModeOffset) & TypeMask) != Socket)
        {
            return null;
        }

        return new UnixFileIdentity(
            BitConverter.ToUInt64(buffer, DeviceOffset),
            BitConverter.ToUInt64(buffer, InodeOffset),
            BitConverter.ToInt64(buffer, ChangeTimeOffset),
            BitConverter.ToInt64(buffer, ChangeTimeOffset + 8));
    }

    // st_mode's offset: after st_dev, st_ino and (x86-64 only) st_nlink.
    private static int ModeOffset => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 24,
        Architecture.Arm64 => 16,
        var other => throw new PlatformNotSupportedException($"socket path checks are not implemented for {other}"),
    };

    private static byte[]? Stat(string path)
    {
        var buffer = new byte[256];
        return lstat(path, buffer) == 0 ? buffer : null;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int lstat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);
}
