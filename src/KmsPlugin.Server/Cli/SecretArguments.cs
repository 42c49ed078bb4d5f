namespace KmsPlugin.Server.Cli;

/// <summary>
/// Refuses secret-bearing flags before the command line is parsed: the parser's "Unrecognized
/// command or argument" errors would echo the value after such a flag to stderr, and from there
/// into the journal or the pod log.
/// </summary>
internal static class SecretArguments
{
    private static readonly string[] Refused = ["--passphrase", "--pin", "--pkcs11-pin", "--so-pin", "--password"];

    /// <summary>Null when no argument is a secret flag; else a message that names the flag, never its value.</summary>
    public static string? Refusal(IEnumerable<string> arguments)
    {
        foreach (var argument in arguments)
        {
            var flag = argument.Split('=', 2)[0];
            if (Refused.Contains(flag, StringComparer.OrdinalIgnoreCase))
            {
                return $"kms-plugin: {flag} is refused: secrets never go on the command line, where ps and shell history show them. " +
                    $"Give the keystore passphrase with --passphrase-file, {EnvironmentVariables.PassphraseFile} or {EnvironmentVariables.Passphrase}; " +
                    $"the PKCS#11 PIN with --pkcs11-pin-file (serve), --pin-file (pkcs11 verbs), {Pkcs11EnvironmentVariables.PinFile} or {Pkcs11EnvironmentVariables.Pin}.";
            }
        }

        return null;
    }
}
