using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// A file's owner and group from stat(2), and fchown(2). .NET exposes file modes but not owners, and
/// an atomic replacement must hand the new file the old one's owner: a keystore edited by root for a
/// plugin running as another user must stay readable by that user.
/// </summary>
internal readonly record struct UnixFileOwner(uint UserId, uint GroupId)
{
    public static UnixFileOwner Of(string path)
    {
        // st_uid's offset in glibc's struct stat (st_gid follows): after st_dev, st_ino, st_mode and st_nlink.
        var uidOffset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 28,
            Architecture.Arm64 => 20,
            var other => throw new PlatformNotSupportedException($"file owner checks are not implemented for {other}"),
        };

        var buffer = new byte[256];
        if (stat(path, buffer) != 0)
        {
            throw new IOException($"cannot read the owner of \"{path}\" (errno {Marshal.GetLastPInvokeError()})");
        }

        return new UnixFileOwner(BitConverter.ToUInt32(buffer, uidOffset), BitConverter.ToUInt32(buffer, uidOffset + 4));
    }

    /// <summary>Gives the open file this owner and group; throws when the caller may not (only root may give a file away).</summary>
    public void ApplyTo(SafeFileHandle handle, string displayPath)
    {
        if (fchown(handle, UserId, GroupId) != 0)
        {
            throw new IOException(
                $"cannot give \"{displayPath}\" the owner {UserId}:{GroupId} of the file it replaces (errno {Marshal.GetLastPInvokeError()}); " +
                "run the command as that user or as root");
        }
    }

    public override string ToString() => $"{UserId}:{GroupId}";

#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks, which this project keeps off.
    [DllImport("libc", SetLastError = true)]
    private static extern int stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);

    [DllImport("libc", SetLastError = true)]
    private static extern int fchown(SafeFileHandle fd, uint owner, uint group);
#pragma warning restore SYSLIB1054
}
