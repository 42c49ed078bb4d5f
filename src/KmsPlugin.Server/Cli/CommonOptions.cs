namespace KmsPlugin.Server.Cli;

/// <summary>What several commands share; their flags come from the settings table (<see cref="Configuration.ServeSettings"/>).</summary>
internal static class CommonOptions
{
    public const string DefaultSocket = "/var/run/kmsplugin/kms.sock";
}
