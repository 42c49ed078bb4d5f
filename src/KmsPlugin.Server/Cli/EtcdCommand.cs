using System.CommandLine;
using Grpc.Core;
using KmsPlugin.Server.Etcd;
using KmsPlugin.Server.Hosting;

namespace KmsPlugin.Server.Cli;

/// <summary>`kms-plugin etcd verify`: prove from etcd itself that every Secret is encrypted and still readable.</summary>
internal static class EtcdCommand
{
    public static Command Create()
    {
        var endpoints = new Option<string>("--endpoints") { Description = "etcd endpoints, comma separated (as etcdctl); the first that answers is used", DefaultValueFactory = _ => "http://127.0.0.1:2379" };
        var caFile = new Option<string?>("--cacert") { Description = "CA bundle that signed etcd's serving certificate" };
        var certFile = new Option<string?>("--cert") { Description = "client certificate for etcd (e.g. apiserver-etcd-client.crt)" };
        var keyFile = new Option<string?>("--key") { Description = "client certificate key" };
        var prefix = new Option<string>("--prefix") { Description = "etcd key prefix to check", DefaultValueFactory = _ => "/registry/secrets/" };
        var socket = new Option<string?>("--socket") { Description = "the running plugin's socket: check that every root key is known to it" };
        var decryptCheck = new Option<bool>("--decrypt-check") { Description = "with --socket: decrypt every value's data key through the plugin and open the value under its etcd key (never prints plaintext)" };
        var output = new Option<string>("--output") { Description = "table or json", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");

        var verify = new Command("verify", "Read every value under the prefix (read-only) and report how it is stored; exit 0 only when nothing is plaintext and nothing is unreadable")
        {
            endpoints, caFile, certFile, keyFile, prefix, socket, decryptCheck, output,
        };
        verify.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var problems = EtcdConnection.Check(parse.GetValue(endpoints)!, parse.GetValue(caFile), parse.GetValue(certFile), parse.GetValue(keyFile)).ToList();
            if (parse.GetValue(decryptCheck) && parse.GetValue(socket) is null)
            {
                problems.Add("--decrypt-check needs --socket");
            }

            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await stderr.WriteLineAsync($"kms-plugin etcd verify: {problem}");
                }

                return 2;
            }

            try
            {
                var report = await RunAsync(parse, endpoints, caFile, certFile, keyFile, prefix, socket, decryptCheck, stderr, cancellationToken);
                if (parse.GetValue(output) == "json")
                {
                    VerifyReportWriter.WriteJson(stdout, report);
                }
                else
                {
                    VerifyReportWriter.WriteTable(stdout, report);
                }

                return report.Passed ? 0 : 1;
            }
            catch (RpcException ex)
            {
                await stderr.WriteLineAsync($"kms-plugin etcd verify: {ex.StatusCode}: {ex.Status.Detail}");
                return 2;
            }
        });

        var command = new Command("etcd", "Inspect how kube-apiserver stored data in etcd");
        command.Subcommands.Add(verify);
        command.Subcommands.Add(EtcdWriteSamplesCommand.Create());
        return command;
    }

    private static async Task<VerifyReport> RunAsync(
        ParseResult parse,
        Option<string> endpoints,
        Option<string?> caFile,
        Option<string?> certFile,
        Option<string?> keyFile,
        Option<string> prefix,
        Option<string?> socket,
        Option<bool> decryptCheck,
        TextWriter stderr,
        CancellationToken cancellationToken)
    {
        var clients = EtcdConnection.ConnectEach(parse.GetValue(endpoints)!, parse.GetValue(caFile), parse.GetValue(certFile), parse.GetValue(keyFile));
        EtcdKeyScanner? scanner = null;
        long total = 0;
        RpcException? last = null;
        foreach (var client in clients)
        {
            try
            {
                scanner = new EtcdKeyScanner(client);
                total = await scanner.CountAsync(parse.GetValue(prefix)!, cancellationToken);
                break;
            }
            catch (RpcException ex)
            {
                scanner = null;
                last = ex;
            }
        }

        if (scanner is null)
        {
            throw last!;
        }

        using var channel = parse.GetValue(socket) is { } socketPath ? UnixSocketChannel.Create(socketPath) : null;
        using var plugin = channel is null ? null : new PluginKeyChecker(channel, TimeSpan.FromSeconds(10));
        var progress = total >= 1000 ? new ScanProgress(stderr, total, terminal: !Console.IsErrorRedirected) : null;
        return await new EtcdVerifier(scanner, plugin, parse.GetValue(decryptCheck)).RunAsync(parse.GetValue(prefix)!, progress, cancellationToken);
    }
}
