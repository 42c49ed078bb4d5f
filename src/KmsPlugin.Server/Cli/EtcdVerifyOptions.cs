using System.CommandLine;
using KmsPlugin.Server.Etcd;

using KmsPlugin.Server.RootKeys;

namespace KmsPlugin.Server.Cli;

/// <summary>The flags of `etcd verify` and the checks that need no etcd, no plugin and no root key.</summary>
internal sealed class EtcdVerifyOptions
{
    public Option<string> Endpoints { get; } = new("--endpoints") { Description = "etcd endpoints, comma separated (as etcdctl); the first that answers is used", DefaultValueFactory = _ => "http://127.0.0.1:2379" };

    public Option<string?> CaFile { get; } = new("--cacert") { Description = "CA bundle that signed etcd's serving certificate" };

    public Option<string?> CertFile { get; } = new("--cert") { Description = "client certificate for etcd (e.g. apiserver-etcd-client.crt)" };

    public Option<string?> KeyFile { get; } = new("--key") { Description = "client certificate key" };

    public Option<string> Prefix { get; } = new("--prefix") { Description = "etcd key prefix to check", DefaultValueFactory = _ => "/registry/secrets/" };

    public Option<string?> Socket { get; } = new("--socket") { Description = "the running plugin's socket: check that every root key is known to it" };

    public Option<bool> DecryptCheck { get; } = new("--decrypt-check") { Description = "decrypt every value's data key (through the plugin, or with the backup's root keys) and open the value under its etcd key (never prints plaintext)" };

    public Option<string> Output { get; } = CreateOutput();

    /// <summary>serve's root-key settings: give them instead of --socket to check a backup of the root keys.</summary>
    public BackupRootKeyOptions BackupKeys { get; } = new();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Endpoints, CaFile, CertFile, KeyFile, Prefix, Socket, DecryptCheck, Output })
        {
            command.Options.Add(option);
        }

        BackupKeys.AddTo(command);
    }

    public List<string> Check(ParseResult parse)
    {
        var problems = EtcdConnection.Check(parse.GetValue(Endpoints)!, parse.GetValue(CaFile), parse.GetValue(CertFile), parse.GetValue(KeyFile)).ToList();
        var socket = parse.GetValue(Socket) is not null;
        var backup = BackupKeys.Given(parse);
        if (socket && backup)
        {
            problems.Add($"give either --socket (a running plugin's root keys) or a backup's root keys ({RootKeyModules.BackupSelection}), not both");
        }
        else if (parse.GetValue(DecryptCheck) && !socket && !backup)
        {
            problems.Add($"--decrypt-check needs --socket, or a backup's root keys ({RootKeyModules.BackupSelectionInFull})");
        }

        return problems;
    }

    private static Option<string> CreateOutput()
    {
        var output = new Option<string>("--output") { Description = "table or json", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        return output;
    }
}
