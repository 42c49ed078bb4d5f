using System.Security.Cryptography;
using System.Text;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.Core.Secrets;

/// <summary>
/// Reads a secret (keystore passphrase, HSM PIN) from a file or an environment variable (never
/// argv). One trailing newline ("\n" or "\r\n") is stripped, so <c>echo secret &gt; file</c> works;
/// an empty secret is refused, and so is a file that group or others may access (as for the
/// keystore itself). The caller owns the returned array and zeroes it.
/// </summary>
internal static class SecretInput
{
    public const int MaxPassphraseBytes = 64 * 1024;

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static byte[] ReadPassphraseFile(string path) => ReadFile(path, "passphrase");

    public static byte[] ReadPassphraseEnvironment(string variable) => ReadEnvironment(variable, "passphrase");

    /// <param name="what">What the secret is, for messages: "passphrase", "PIN".</param>
    public static byte[] ReadFile(string path, string what)
    {
        byte[] raw;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            RefuseSharedMode(stream, path, what);
            if (stream.Length > MaxPassphraseBytes)
            {
                throw Failure($"{what} file \"{path}\" is larger than {MaxPassphraseBytes} bytes");
            }

            raw = GC.AllocateArray<byte>((int)stream.Length, pinned: true);
            stream.ReadExactly(raw);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Failure($"{what} file \"{path}\": no such file", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Failure($"{what} file \"{path}\": cannot read the file: permission denied", e);
        }
        catch (IOException e)
        {
            throw Failure($"{what} file \"{path}\": cannot read the file: {e.Message}", e);
        }

        try
        {
            return Trim(raw, $"{what} file \"{path}\"", what);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <remarks>The variable's string value cannot be zeroed; prefer a file where that matters.</remarks>
    public static byte[] ReadEnvironment(string variable, string what)
    {
        var value = Environment.GetEnvironmentVariable(variable) ?? throw Failure($"environment variable {variable} is not set");
        var raw = GC.AllocateArray<byte>(Encoding.UTF8.GetByteCount(value), pinned: true);
        try
        {
            Encoding.UTF8.GetBytes(value, raw);
            return Trim(raw, $"environment variable {variable}", what);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>Checked on the open handle, so the file cannot be swapped between the check and the read.</summary>
    private static void RefuseSharedMode(FileStream stream, string path, string what)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(stream.SafeFileHandle);
        if ((mode & GroupOrOthers) != 0)
        {
            var octal = Convert.ToString((int)mode, 8).PadLeft(4, '0');
            throw Failure($"{what} file \"{path}\": file mode {octal} lets group or others access it; run chmod 600 \"{path}\"");
        }
    }

    internal static byte[] Trim(ReadOnlySpan<byte> raw, string source, string what = "passphrase")
    {
        if (raw.EndsWith("\r\n"u8))
        {
            raw = raw[..^2];
        }
        else if (raw.EndsWith("\n"u8))
        {
            raw = raw[..^1];
        }

        if (raw.IsEmpty)
        {
            throw Failure($"{source} holds an empty {what}");
        }

        var passphrase = GC.AllocateArray<byte>(raw.Length, pinned: true);
        raw.CopyTo(passphrase);
        return passphrase;
    }

    private static KmsException Failure(string message, Exception? inner = null) =>
        new(KmsErrorKind.ProviderUnavailable, message, inner);
}
