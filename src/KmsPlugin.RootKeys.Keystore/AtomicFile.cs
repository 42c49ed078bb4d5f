using System.Security.Cryptography;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// Replaces a file so that a crash at any point leaves either the old or the new complete file:
/// temp file (0600 from creation) in the same directory → write → give it the replaced file's owner,
/// group and mode → fsync → rename over the target → fsync the directory. Keeping the owner matters
/// when root edits a keystore that a plugin reads as another user. A crash before the rename can
/// leave a <c>.&lt;name&gt;.&lt;hex&gt;.tmp</c> file behind; it holds only sealed data and is never read.
/// </summary>
internal static class AtomicFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <param name="afterTempFileWritten">Test hook: runs with the temp path after it is flushed, before the rename.</param>
    public static void Write(string target, ReadOnlySpan<byte> content, bool overwrite, Action<string>? afterTempFileWritten = null)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the keystore needs Unix file modes");
        }

        var fullTarget = Path.GetFullPath(target);
        var directory = Path.GetDirectoryName(fullTarget) ?? throw new ArgumentException($"\"{target}\" has no directory", nameof(target));
        var temp = Path.Combine(directory, $".{Path.GetFileName(fullTarget)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");

        var replaced = overwrite && File.Exists(fullTarget)
            ? (Owner: UnixFileOwner.Of(fullTarget), Mode: File.GetUnixFileMode(fullTarget))
            : ((UnixFileOwner Owner, UnixFileMode Mode)?)null;
        var renamed = false;
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = OwnerOnly,
            };
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                if (replaced is { } old)
                {
                    if (UnixFileOwner.Of(temp) != old.Owner)
                    {
                        old.Owner.ApplyTo(stream.SafeFileHandle, target);
                    }

                    File.SetUnixFileMode(stream.SafeFileHandle, old.Mode);
                }

                stream.Flush(flushToDisk: true);
            }

            afterTempFileWritten?.Invoke(temp);
            File.Move(temp, fullTarget, overwrite);
            renamed = true;
            DirectorySync.Flush(directory);
        }
        finally
        {
            if (!renamed)
            {
                File.Delete(temp);
            }
        }
    }
}
