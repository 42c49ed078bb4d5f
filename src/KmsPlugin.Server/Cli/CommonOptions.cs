using System.CommandLine;

namespace KmsPlugin.Server.Cli;

/// <summary>Options shared by several commands, each with its environment variable fallback.</summary>
internal static class CommonOptions
{
    public const string DefaultSocket = "/var/run/kmsplugin/kms.sock";

    public static Option<string> Socket() => new("--socket")
    {
        Description = $"Unix socket path [env {EnvironmentVariables.Socket}; default {DefaultSocket}]",
        DefaultValueFactory = _ => EnvironmentVariables.Get(EnvironmentVariables.Socket) ?? DefaultSocket,
    };

    public static Option<string?> Keystore() => new("--keystore")
    {
        Description = $"Keystore file holding the software root keys [env {EnvironmentVariables.Keystore}]",
        DefaultValueFactory = _ => EnvironmentVariables.Get(EnvironmentVariables.Keystore),
    };

    public static Option<string?> PassphraseFile() => new("--passphrase-file")
    {
        Description = $"File holding the keystore passphrase [env {EnvironmentVariables.PassphraseFile}, " +
            $"or the passphrase itself in {EnvironmentVariables.Passphrase}; never on the command line]",
        DefaultValueFactory = _ => EnvironmentVariables.Get(EnvironmentVariables.PassphraseFile),
    };
}
