using System.CommandLine;

namespace KmsPlugin.Server.Cli;

internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the plugin version");
        command.SetAction(parse =>
        {
            parse.InvocationConfiguration.Output.WriteLine($"{ProductInfo.RuntimeName} {ProductInfo.Version} (commit {ProductInfo.Commit}, KMS APIs: v1beta1)");
            return 0;
        });
        return command;
    }
}
