using System.CommandLine;
using KmsPlugin.Server.Cli;

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

    public static RootCommand BuildCommandLine() => new("kms-plugin: Kubernetes KMS encryption provider with root keys you control")
    {
        ServeCommand.Create(),
        KeystoreCommand.Create(),
        Pkcs11Command.Create(),
        StatusCommand.Create(),
        EtcdCommand.Create(),
        VersionCommand.Create(),
    };
}
