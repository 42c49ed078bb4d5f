using System.Runtime.InteropServices;

namespace KmsPlugin.Server.Hosting;

/// <summary>
/// The file type at a path, from lstat(2). .NET reports a socket as an ordinary file, and the
/// socket path must never delete a regular file, so we ask the kernel.
/// </summary>
internal static class UnixFileType
{
    private const uint TypeMask = 0xF000;   // S_IFMT   0170000
    private const uint Socket = 0xC000;     // S_IFSOCK 0140000

    public static bool IsSocket(string path)
    {
        // st_mode's offset in glibc's struct stat: after st_dev, st_ino and (x86-64 only) st_nlink.
        var modeOffset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 => 16,
            var other => throw new PlatformNotSupportedException($"socket path checks are not implemented for {other}"),
        };

        var buffer = new byte[256];
        if (lstat(path, buffer) != 0)
        {
            return false;
        }

        return (BitConverter.ToUInt32(buffer, modeOffset) & TypeMask) == Socket;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int lstat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);
}
