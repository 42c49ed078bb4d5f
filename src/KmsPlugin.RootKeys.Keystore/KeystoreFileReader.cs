namespace KmsPlugin.RootKeys.Keystore;

/// <summary>
/// Reads a keystore file: refuses one that group or others may access (checked on the open handle)
/// or that is too large to be a keystore, then parses it. Every failure names the file.
/// </summary>
internal static class KeystoreFileReader
{
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static (KeystoreHeader Header, byte[] SealedRing) Read(string path, string? displayPath = null) =>
        Parse(ReadContent(path, displayPath ?? path), displayPath ?? path);

    public static byte[] ReadContent(string path, string displayPath)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the software keystore relies on Unix file modes");
        }

        byte[] content;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

            // Checked on the open handle, so the file cannot be swapped between the check and the read.
            var mode = File.GetUnixFileMode(handle);
            if ((mode & GroupOrOthers) != 0)
            {
                var octal = Convert.ToString((int)mode, 8).PadLeft(4, '0');
                throw KeystoreErrors.Unavailable(displayPath, $"file mode {octal} lets group or others access it; run chmod 600 \"{displayPath}\"");
            }

            var length = RandomAccess.GetLength(handle);
            if (length > KeystoreFileFormat.MaxFileSize)
            {
                throw KeystoreErrors.Unavailable(displayPath, $"the file is larger than {KeystoreFileFormat.MaxFileSize} bytes; it is not a keystore");
            }

            content = new byte[length];
            var read = 0;
            while (read < content.Length)
            {
                var n = RandomAccess.Read(handle, content.AsSpan(read), read);
                if (n == 0)
                {
                    throw KeystoreErrors.Unavailable(displayPath, "the file shrank while it was being read");
                }

                read += n;
            }
        }
        catch (FileNotFoundException e)
        {
            throw KeystoreErrors.Unavailable(displayPath, "the file does not exist", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw KeystoreErrors.Unavailable(displayPath, "the file does not exist", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw KeystoreErrors.Unavailable(displayPath, "cannot read the file: permission denied", e);
        }
        catch (IOException e)
        {
            throw KeystoreErrors.Unavailable(displayPath, $"cannot read the file: {e.Message}", e);
        }

        return content;
    }

    public static (KeystoreHeader Header, byte[] SealedRing) Parse(byte[] content, string displayPath)
    {
        try
        {
            return KeystoreFileFormat.Parse(content);
        }
        catch (FormatException e)
        {
            throw KeystoreErrors.Unavailable(displayPath, $"not a valid keystore file: {e.Message}", e);
        }
    }
}
