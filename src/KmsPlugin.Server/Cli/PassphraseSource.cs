using KmsPlugin.Core.Keystore;

namespace KmsPlugin.Server.Cli;

/// <summary>The keystore passphrase: from a file, or from an environment variable. Never from argv.</summary>
internal static class PassphraseSource
{
    /// <summary>Reads the passphrase, or adds a problem and returns null.</summary>
    public static byte[]? Read(string? passphraseFile, List<string> problems)
    {
        try
        {
            if (passphraseFile is not null)
            {
                return SecretInput.ReadPassphraseFile(passphraseFile);
            }

            if (EnvironmentVariables.Get(EnvironmentVariables.Passphrase) is not null)
            {
                return SecretInput.ReadPassphraseEnvironment(EnvironmentVariables.Passphrase);
            }
        }
        catch (Exception ex) when (ex is Core.Errors.KmsException or IOException or UnauthorizedAccessException)
        {
            problems.Add(ex.Message);
            return null;
        }

        problems.Add($"no keystore passphrase: give --passphrase-file, or set {EnvironmentVariables.PassphraseFile} or {EnvironmentVariables.Passphrase}");
        return null;
    }
}
