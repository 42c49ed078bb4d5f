using KmsPlugin.Server.RootKeys;

namespace KmsPlugin.Server.Cli;

/// <summary>
/// Refuses secret-bearing flags before the command line is parsed: the parser's "Unrecognized
/// command or argument" errors would echo the value after such a flag to stderr, and from there
/// into the journal or the pod log.
/// </summary>
internal static class SecretArguments
{
    private static readonly IReadOnlyList<string> Refused = RootKeyModules.RefusedFlags;

    /// <summary>Null when no argument is a secret flag; else a message that names the flag, never its value.</summary>
    public static string? Refusal(IEnumerable<string> arguments)
    {
        foreach (var argument in arguments)
        {
            var flag = argument.Split('=', 2)[0];
            if (Refused.Contains(flag, StringComparer.OrdinalIgnoreCase))
            {
                return $"kms-plugin: {flag} is refused: secrets never go on the command line, where ps and shell history show them. " +
                    $"Give {string.Join("; ", RootKeyModules.SecretHints)}.";
            }
        }

        return null;
    }
}
