using System.CommandLine;
using Grpc.Core;
using KmsPlugin.EtcdValues;
using KmsPlugin.Server.Etcd;
using KmsPlugin.Server.Hosting;

namespace KmsPlugin.Server.Cli;

/// <summary>
/// `kms-plugin etcd write-samples`: demo Secrets written into etcd through the running plugin the
/// way kube-apiserver writes them, so the seed's flow can be tried without a cluster.
/// </summary>
internal static class EtcdWriteSamplesCommand
{
    private const string Name = "kms-plugin etcd write-samples";

    public static Command Create()
    {
        var endpoints = new Option<string>("--endpoints") { Description = "etcd endpoint (as etcdctl; of a comma-separated list the first is used)", DefaultValueFactory = _ => "http://127.0.0.1:2379" };
        var caFile = new Option<string?>("--cacert") { Description = "CA bundle that signed etcd's serving certificate" };
        var certFile = new Option<string?>("--cert") { Description = "client certificate for etcd" };
        var keyFile = new Option<string?>("--key") { Description = "client certificate key" };
        var socket = new Option<string>("--socket") { Description = "the running plugin's socket", Required = true };
        var api = new Option<string>("--api") { Description = "KMS API of the samples: v1, v2 or both", DefaultValueFactory = _ => "both" };
        api.AcceptOnlyFromAmong("v1", "v2", "both");
        var v1Name = new Option<string>("--v1-name") { Description = "KMS v1 provider name, the EncryptionConfiguration's `name` (prefix k8s:enc:kms:v1:<name>:)", DefaultValueFactory = _ => "ibm" };
        var v2Name = new Option<string>("--v2-name") { Description = "KMS v2 provider name (prefix k8s:enc:kms:v2:<name>:)", DefaultValueFactory = _ => "kms-plugin" };
        var count = new Option<int>("--count") { Description = "samples per API (1 to 100)", DefaultValueFactory = _ => 3 };
        var @namespace = new Option<string>("--namespace") { Description = "namespace of the samples", DefaultValueFactory = _ => "default" };
        var force = new Option<bool>("--force") { Description = "write even though etcd already holds /registry/ data" };
        var rewrite = new Option<bool>("--rewrite") { Description = "read the samples back and write them again under the plugin's current root key (after a rotation)" };

        var command = new Command("write-samples", "FOR DEMOS AND DRILLS ONLY: write sample Secrets into etcd through the running plugin exactly as kube-apiserver would "
            + "(/registry/secrets/<namespace>/sample-v1-N and sample-v2-N). Refuses an etcd that already holds /registry/ data unless --force; never point it at a cluster's etcd")
        {
            endpoints, caFile, certFile, keyFile, socket, api, v1Name, v2Name, count, @namespace, force, rewrite,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var problems = EtcdConnection.Check(parse.GetValue(endpoints)!, parse.GetValue(caFile), parse.GetValue(certFile), parse.GetValue(keyFile)).ToList();
            problems.AddRange(CheckSettings(parse.GetValue(count), parse.GetValue(@namespace)!, parse.GetValue(v1Name)!, parse.GetValue(v2Name)!));
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await stderr.WriteLineAsync($"{Name}: {problem}");
                }

                return 2;
            }

            var settings = new SampleSettings(
                parse.GetValue(api)!, parse.GetValue(v1Name)!, parse.GetValue(v2Name)!, parse.GetValue(count), parse.GetValue(force), parse.GetValue(rewrite));
            try
            {
                using var etcd = EtcdConnection.Connect(parse.GetValue(endpoints)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)[0],
                    parse.GetValue(caFile), parse.GetValue(certFile), parse.GetValue(keyFile));
                using var channel = UnixSocketClient.Create(parse.GetValue(socket)!);
                using var envelopes = new KubeApiserverEnvelopes(channel, TimeSpan.FromSeconds(10));
                var writer = new SampleSecretWriter(etcd, envelopes, parse.GetValue(@namespace)!);
                return settings.Rewrite
                    ? await RewriteAsync(writer, stdout, stderr, cancellationToken)
                    : await WriteAsync(writer, settings, stdout, stderr, cancellationToken);
            }
            catch (RpcException ex)
            {
                await stderr.WriteLineAsync($"{Name}: {ex.StatusCode}: {Printable(ex.Status.Detail)}");
                return 1;
            }
        });
        return command;
    }

    private static IEnumerable<string> CheckSettings(int count, string @namespace, string v1Name, string v2Name)
    {
        if (count is < 1 or > 100)
        {
            yield return $"--count {count}: give 1 to 100";
        }

        if (!DnsNames.IsDns1123Label(@namespace))
        {
            yield return $"--namespace \"{Printable(@namespace)}\": not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)";
        }

        foreach (var (flag, value) in new[] { ("--v1-name", v1Name), ("--v2-name", v2Name) })
        {
            if (value.Length == 0 || value.Contains(':') || value.Any(char.IsControl) || value.Any(char.IsWhiteSpace))
            {
                yield return $"{flag} \"{Printable(value)}\": a provider name must be non-empty, without ':' or spaces";
            }
        }
    }

    private static async Task<int> WriteAsync(SampleSecretWriter writer, SampleSettings settings, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var existing = await writer.CountRegistryKeysAsync(cancellationToken);
        if (existing > 0 && !settings.Force)
        {
            await stderr.WriteLineAsync($"{Name}: etcd already holds {existing} keys under {SampleSecretWriter.RegistryPrefix}; this verb is for demo and drill etcds only. " +
                "Give --rewrite to re-encrypt the samples it wrote, or --force to write next to that data");
            return 1;
        }

        foreach (var (v2, provider) in settings.Apis())
        {
            for (var number = 1; number <= settings.Count; number++)
            {
                var key = await writer.WriteAsync(v2, number, provider, cancellationToken);
                await stdout.WriteLineAsync($"wrote {key}  (k8s:enc:kms:{(v2 ? "v2" : "v1")}:{provider}:)");
            }
        }

        return 0;
    }

    private static async Task<int> RewriteAsync(SampleSecretWriter writer, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var (rewritten, skipped) = await writer.RewriteAsync(cancellationToken);
        foreach (var key in rewritten)
        {
            await stdout.WriteLineAsync($"rewrote {key}");
        }

        foreach (var (key, reason) in skipped)
        {
            await stderr.WriteLineAsync($"{Name}: skipped {Printable(key)}: {Printable(reason)}");
        }

        if (rewritten.Count == 0 && skipped.Count == 0)
        {
            await stderr.WriteLineAsync($"{Name}: no samples to rewrite under /registry/secrets/<namespace>/sample-");
            return 1;
        }

        return skipped.Count == 0 ? 0 : 1;
    }

    /// <summary>Client-supplied text for one log line: control characters escaped, nothing else changed.</summary>
    private static string Printable(string text) =>
        string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
