using KmsPlugin.Core.Errors;
using KmsPlugin.Core.Secrets;

namespace KmsPlugin.Server.Cli;

/// <summary>
/// Where a secret the plugin itself needs comes from: a file (flag or its variable), or the
/// value in an environment variable. Never argv, never logged.
/// </summary>
internal sealed record SecretSource(string Name, string Description, string FileVariable, string ValueVariable)
{
    /// <summary>Reads the secret (the caller zeroes it), or adds a problem and returns null.</summary>
    /// <param name="fileFlag">The flag that names the file in this command, for the message.</param>
    public byte[]? Read(string? file, string fileFlag, List<string> problems)
    {
        try
        {
            if (file is not null)
            {
                return SecretInput.ReadFile(file, Name);
            }

            if (EnvironmentVariables.Get(ValueVariable) is not null)
            {
                return SecretInput.ReadEnvironment(ValueVariable, Name);
            }
        }
        catch (KmsException ex)
        {
            problems.Add(ex.Message);
            return null;
        }

        problems.Add($"no {Description}: give {fileFlag}, or set {FileVariable} or {ValueVariable}");
        return null;
    }
}
