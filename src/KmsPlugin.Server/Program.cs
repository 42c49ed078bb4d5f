using System.CommandLine;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.RootKeys;

namespace KmsPlugin.Server;

internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        if (SecretArguments.Refusal(args) is { } refusal)
        {
            Console.Error.WriteLine(refusal);
            return Task.FromResult(2);
        }

        return BuildCommandLine().Parse(args).InvokeAsync();
    }

    public static RootCommand BuildCommandLine()
    {
        var root = new RootCommand("kms-plugin: Kubernetes KMS encryption provider with root keys you control") { ServeCommand.Create() };
        foreach (var command in RootKeyModules.Commands())
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(EtcdCommand.Create());
        root.Subcommands.Add(VersionCommand.Create());
        return root;
    }
}
