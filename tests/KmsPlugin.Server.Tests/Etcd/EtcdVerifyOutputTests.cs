using System.Text.Json;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Etcd;

/// <summary>Issue 13's `etcd verify` items: a one-line reason when etcd cannot be reached, and counts in the JSON.</summary>
public sealed class EtcdVerifyOutputTests
{
    [Fact]
    public async Task Etcd_down_is_one_line_naming_the_endpoint_and_the_reason()
    {
        var http = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        var https = $"https://127.0.0.1:{LoopbackPorts.Free()}";

        var one = await PluginProcess.RunCliAsync(null, "etcd", "verify", "--endpoints", https);
        Assert.True(one.ExitCode == 2, one.ToString());
        Assert.Equal($"kms-plugin etcd verify: cannot reach etcd at {https}: connection refused", one.Error.TrimEnd());
        Assert.Equal("", one.Output);

        var both = await PluginProcess.RunCliAsync(null, "etcd", "verify", "--endpoints", $"{http},{https}", "--output", "json");
        Assert.True(both.ExitCode == 2, both.ToString());
        Assert.Equal($"kms-plugin etcd verify: cannot reach etcd at {http}: connection refused; at {https}: connection refused", both.Error.TrimEnd());
    }

    [Fact]
    public async Task An_etcd_certificate_the_ca_did_not_sign_is_one_line_naming_the_tls_failure()
    {
        using var dir = new TempDirectory();
        var tls = TestCertificates.Create(dir.Path);
        await using var etcd = await EtcdServer.StartAsync(tls);

        // The client certificate is no CA of etcd's serving certificate.
        var result = await PluginProcess.RunCliAsync(null, "etcd", "verify", "--endpoints", etcd.Endpoint, "--cacert", tls.ClientCertFile, "--cert", tls.ClientCertFile, "--key", tls.ClientKeyFile);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith($"kms-plugin etcd verify: cannot reach etcd at {etcd.Endpoint}: TLS handshake failed: ", result.Error);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var trusted = await PluginProcess.RunCliAsync(null, "etcd", "verify", "--endpoints", etcd.Endpoint, "--cacert", tls.CaFile, "--cert", tls.ClientCertFile, "--key", tls.ClientKeyFile, "--output", "json");
        Assert.True(trusted.ExitCode == 0, trusted.ToString());
    }

    [Fact]
    public async Task The_json_report_counts_what_it_lists()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = new EtcdClient(etcd.Endpoint);
        await using (var plugin = await RunningPlugin.StartAsync(TestKeys.Development()))
        {
            await BackupDrill.WriteSecretsAsync(client, plugin.Channel, "kms", 3);
        }

        await PutAsync(client, "/registry/secrets/plain/a", "{\"kind\":\"Secret\"}");
        await PutAsync(client, "/registry/secrets/plain/b", "{\"kind\":\"Secret\"}");
        await PutAsync(client, "/registry/secrets/other/c", "k8s:enc:aescbc:v1:key1:not-ours");

        var result = await PluginProcess.RunCliAsync(null, "etcd", "verify", "--endpoints", etcd.Endpoint, "--output", "json");
        Assert.True(result.ExitCode == 1, result.ToString());
        var report = JsonDocument.Parse(result.Output).RootElement;
        var counts = report.GetProperty("counts");
        Assert.Equal(6, counts.GetProperty("scanned").GetInt64());
        Assert.Equal(4, counts.GetProperty("encrypted").GetInt64());
        Assert.Equal(3, counts.GetProperty("kms_plugin").GetInt64());
        Assert.Equal(2, counts.GetProperty("plaintext").GetInt64());
        Assert.Equal(report.GetProperty("plaintext").GetArrayLength(), counts.GetProperty("plaintext").GetInt64());
        Assert.Equal(0, counts.GetProperty("unreadable").GetInt64());
        Assert.Equal(0, counts.GetProperty("unknown_root_key").GetInt64());
        Assert.Equal(0, counts.GetProperty("decrypted_ok").GetInt64());
        var rootKey = Assert.Single(report.GetProperty("root_keys").EnumerateArray());
        Assert.Equal(3, rootKey.GetProperty("values").GetInt64());
        Assert.Equal(JsonValueKind.Null, rootKey.GetProperty("available").ValueKind);
    }

    private static Task PutAsync(EtcdClient client, string key, string value) =>
        client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) });
}
