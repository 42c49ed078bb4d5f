using System.CommandLine;
using Grpc.Core;
using KmsPlugin.Core.Errors;
using KmsPlugin.Server.Etcd;
using KmsPlugin.Server.Hosting;

using KmsPlugin.Server.RootKeys;

namespace KmsPlugin.Server.Cli;

/// <summary>`kms-plugin etcd verify`: prove from etcd itself that every Secret is encrypted and still readable.</summary>
internal static class EtcdCommand
{
    private const string Name = "kms-plugin etcd verify";

    public static Command Create()
    {
        var options = new EtcdVerifyOptions();
        var verify = new Command("verify", "Read every value under the prefix (read-only) and report how it is stored; exit 0 only when nothing is plaintext and nothing is unreadable. " +
            $"With --socket the running plugin's root keys are checked; with serve's root-key settings ({RootKeyModules.BackupSelection}) a backup of them is, without any plugin");
        options.AddTo(verify);
        verify.SetAction(async (parse, cancellationToken) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var problems = options.Check(parse);
            var offline = options.BackupKeys.Given(parse);
            var (backup, module) = offline ? options.BackupKeys.Resolve(parse, problems) : (null, null);
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await stderr.WriteLineAsync($"{Name}: {problem}");
                }

                return 2;
            }

            try
            {
                using var channel = parse.GetValue(options.Socket) is { } socketPath ? UnixSocketClient.Create(socketPath) : null;
                using DataKeyChecker? checker = backup is not null ? BackupRootKeyOptions.Open(backup, module!)
                    : channel is not null ? new PluginKeyChecker(channel, TimeSpan.FromSeconds(10))
                    : null;
                var report = await RunAsync(parse, options, checker, backup?.Description, stderr, cancellationToken);
                Write(parse, options, report);
                return report.Passed ? 0 : 1;
            }
            catch (Exception ex) when (ex is EtcdUnreachableException or KmsException)
            {
                await stderr.WriteLineAsync($"{Name}: {ex.Message}");
                return 2;
            }
            catch (RpcException ex)
            {
                await stderr.WriteLineAsync($"{Name}: {ex.StatusCode}: {ex.Status.Detail}");
                return 2;
            }
        });

        var command = new Command("etcd", "Inspect how kube-apiserver stored data in etcd");
        command.Subcommands.Add(verify);
        command.Subcommands.Add(EtcdWriteSamplesCommand.Create());
        return command;
    }

    private static void Write(ParseResult parse, EtcdVerifyOptions options, VerifyReport report)
    {
        if (parse.GetValue(options.Output) == "json")
        {
            VerifyReportWriter.WriteJson(parse.InvocationConfiguration.Output, report);
        }
        else
        {
            VerifyReportWriter.WriteTable(parse.InvocationConfiguration.Output, report);
        }
    }

    private static async Task<VerifyReport> RunAsync(ParseResult parse, EtcdVerifyOptions options, DataKeyChecker? checker, string? backup, TextWriter stderr, CancellationToken cancellationToken)
    {
        var endpoints = EtcdConnection.Endpoints(parse.GetValue(options.Endpoints)!);
        var failures = new List<(string, RpcException)>();
        foreach (var endpoint in endpoints)
        {
            var scanner = new EtcdKeyScanner(EtcdConnection.Connect(endpoint, parse.GetValue(options.CaFile), parse.GetValue(options.CertFile), parse.GetValue(options.KeyFile)));
            long total;
            try
            {
                total = await scanner.CountAsync(parse.GetValue(options.Prefix)!, cancellationToken);
            }
            catch (RpcException ex) when (EtcdUnreachableException.IsConnectionFailure(ex))
            {
                failures.Add((endpoint, ex));
                continue;
            }

            var progress = total >= 1000 ? new ScanProgress(stderr, total, terminal: !Console.IsErrorRedirected) : null;
            return await new EtcdVerifier(scanner, checker, parse.GetValue(options.DecryptCheck), backup).RunAsync(parse.GetValue(options.Prefix)!, progress, cancellationToken);
        }

        throw new EtcdUnreachableException(failures);
    }
}
