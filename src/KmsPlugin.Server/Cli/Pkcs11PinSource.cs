using System.Security.Cryptography;
using System.Text;
using KmsPlugin.Core.Keystore;

namespace KmsPlugin.Server.Cli;

/// <summary>The token's user PIN: from a file, or from an environment variable. Never from argv, never logged.</summary>
internal static class Pkcs11PinSource
{
    private const int MaxBytes = 1024;

    /// <summary>Reads the PIN (the caller zeroes it), or adds a problem and returns null.</summary>
    public static byte[]? Read(string? pinFile, string pinFileFlag, List<string> problems)
    {
        if (pinFile is not null)
        {
            byte[] raw;
            try
            {
                using var stream = new FileStream(pinFile, FileMode.Open, FileAccess.Read, FileShare.Read);
                if (stream.Length > MaxBytes)
                {
                    problems.Add($"PIN file \"{pinFile}\" is larger than {MaxBytes} bytes");
                    return null;
                }

                raw = GC.AllocateArray<byte>((int)stream.Length, pinned: true);
                stream.ReadExactly(raw);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add($"cannot read PIN file \"{pinFile}\": {ex.GetType().Name}");
                return null;
            }

            return Trim(raw, $"PIN file \"{pinFile}\"", problems);
        }

        if (EnvironmentVariables.Get(Pkcs11EnvironmentVariables.Pin) is { } value)
        {
            var raw = GC.AllocateArray<byte>(Encoding.UTF8.GetByteCount(value), pinned: true);
            Encoding.UTF8.GetBytes(value, raw);
            return Trim(raw, $"environment variable {Pkcs11EnvironmentVariables.Pin}", problems);
        }

        problems.Add($"no PKCS#11 user PIN: give {pinFileFlag}, or set {Pkcs11EnvironmentVariables.PinFile} or {Pkcs11EnvironmentVariables.Pin}");
        return null;
    }

    private static byte[]? Trim(byte[] raw, string source, List<string> problems)
    {
        try
        {
            return SecretInput.Trim(raw, source);
        }
        catch (Core.Errors.KmsException)
        {
            problems.Add($"{source} is empty");
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }
}
