using System.Security.Cryptography;
using System.Text;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.Core.Keystore;

/// <summary>
/// Reads a secret (keystore passphrase, HSM PIN) from a file or an environment variable (never
/// argv). One trailing newline ("\n" or "\r\n") is stripped, so <c>echo secret &gt; file</c> works;
/// an empty secret is refused. The caller owns the returned array and zeroes it.
/// </summary>
internal static class SecretInput
{
    public const int MaxPassphraseBytes = 64 * 1024;

    public static byte[] ReadPassphraseFile(string path) => ReadFile(path, "passphrase");

    public static byte[] ReadPassphraseEnvironment(string variable) => ReadEnvironment(variable, "passphrase");

    /// <param name="what">What the secret is, for messages: "passphrase", "PIN".</param>
    public static byte[] ReadFile(string path, string what)
    {
        byte[] raw;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > MaxPassphraseBytes)
            {
                throw Failure($"{what} file \"{path}\" is larger than {MaxPassphraseBytes} bytes");
            }

            raw = GC.AllocateArray<byte>((int)stream.Length, pinned: true);
            stream.ReadExactly(raw);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure($"cannot read {what} file \"{path}\": {e.GetType().Name}", e);
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
