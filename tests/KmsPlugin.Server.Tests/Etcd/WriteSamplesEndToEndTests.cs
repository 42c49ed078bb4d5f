using System.Text.Json;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using KmsPlugin.Server.Etcd;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Etcd;

/// <summary>
/// `kms-plugin etcd write-samples` (the real executable) against a real etcd and a real
/// keystore-backed plugin: what it writes is what kube-apiserver writes, `etcd verify` accepts it,
/// it refuses an etcd with data, and after a rotation it moves its samples to the new root key.
/// </summary>
public sealed class WriteSamplesEndToEndTests : IAsyncLifetime
{
    private readonly KeystoreFiles _keystore = new("write samples test passphrase");
    private EtcdServer _etcd = null!;
    private EtcdClient _client = null!;
    private PluginProcess _plugin = null!;

    public async Task InitializeAsync()
    {
        _etcd = await EtcdServer.StartAsync();
        _client = new EtcdClient(_etcd.Endpoint);
        _keystore.InitAtMinimumCost();
        _plugin = await PluginProcess.StartAsync(_keystore.Directory.File("kms.sock"), null, _keystore.Args);
    }

    public async Task DisposeAsync()
    {
        await _plugin.DisposeAsync();
        _client.Dispose();
        await _etcd.DisposeAsync();
        _keystore.Dispose();
    }

    [Fact]
    public async Task Samples_are_kube_apiserver_values_that_verify_and_follow_a_rotation()
    {
        var written = await SamplesAsync(0);
        Assert.Equal(6, written.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        foreach (var (api, name) in new[] { ("v1", "ibm"), ("v2", "kms-plugin") })
        {
            for (var n = 1; n <= 3; n++)
            {
                var key = $"/registry/secrets/default/sample-{api}-{n}";
                var value = await GetAsync(key);
                Assert.StartsWith($"k8s:enc:kms:{api}:{name}:", System.Text.Encoding.Latin1.GetString(value));
                Assert.DoesNotContain("not-a-real-password", System.Text.Encoding.Latin1.GetString(value));

                // Read back as kube-apiserver reads it: the k8s protobuf Secret with the sample label.
                var plaintext = await new KubeApiserverStandIn(_client, _plugin.Channel).ReadAsync(key);
                Assert.True(SampleSecret.IsSample(plaintext));
                Assert.Contains($"not-a-real-password-sample-{api}-{n}", System.Text.Encoding.UTF8.GetString(plaintext));
            }
        }

        var first = await VerifyAsync();
        Assert.Equal(6, first.GetProperty("decrypted_ok").GetInt64());
        var rootA = first.GetProperty("primary_root_key").GetString()!;

        // Rotation on the keystore the running plugin watches; it reloads by itself.
        var added = await _keystore.CliAsync("keystore", "add", "--json");
        var rootB = JsonDocument.Parse(added.Output).RootElement.EnumerateArray().Single(k => k.GetProperty("state").GetString() == "decrypt-only").GetProperty("id").GetString()!;
        await _keystore.CliAsync("keystore", "promote", rootB);
        var beforeRewrite = await VerifyUntilPrimaryAsync(rootB);
        Assert.Equal(6, beforeRewrite.GetProperty("on_older_root_key").GetArrayLength());

        var rewrite = await SamplesAsync(0, "--rewrite");
        Assert.Equal(6, rewrite.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.StartsWith("rewrote ", StringComparison.Ordinal)));
        var after = await VerifyAsync();
        Assert.Equal(0, after.GetProperty("on_older_root_key").GetArrayLength());
        Assert.Equal(6, after.GetProperty("by_root_key").GetProperty(rootB).GetInt64());
        Assert.False(after.GetProperty("by_root_key").TryGetProperty(rootA, out _));
    }

    [Fact]
    public async Task An_etcd_with_registry_data_is_refused_and_left_unchanged_unless_forced()
    {
        await PutAsync("/registry/configmaps/default/real", "real data"u8.ToArray());
        var revision = await RevisionAsync();

        var refused = await SamplesAsync(1);
        Assert.Contains("etcd already holds 1 keys under /registry/", refused.Error);
        Assert.Single(refused.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(revision, await RevisionAsync());

        await SamplesAsync(0, "--force", "--api", "v1", "--v1-name", "demo", "--count", "2");
        Assert.StartsWith("k8s:enc:kms:v1:demo:", System.Text.Encoding.Latin1.GetString(await GetAsync("/registry/secrets/default/sample-v1-2")));
        Assert.Equal("real data", System.Text.Encoding.UTF8.GetString(await GetAsync("/registry/configmaps/default/real")));
    }

    [Fact]
    public async Task A_rewrite_never_touches_what_it_did_not_write()
    {
        await SamplesAsync(0, "--api", "v2", "--count", "1");
        await new KubeApiserverStandIn(_client, _plugin.Channel).WriteAsync("/registry/secrets/default/sample-foreign", "{\"kind\":\"Secret\"}"u8.ToArray(), v2: true);
        var foreign = await GetAsync("/registry/secrets/default/sample-foreign");

        var rewrite = await SamplesAsync(1, "--rewrite");
        Assert.Contains("rewrote /registry/secrets/default/sample-v2-1", rewrite.Output);
        Assert.Contains("skipped /registry/secrets/default/sample-foreign: not a sample written by this verb", rewrite.Error);
        Assert.Equal(foreign, await GetAsync("/registry/secrets/default/sample-foreign"));
    }

    [Theory]
    [InlineData("--count", "0", "--count 0: give 1 to 100")]
    [InlineData("--namespace", "Not_A_Namespace", "--namespace \"Not_A_Namespace\": not a Kubernetes namespace name")]
    [InlineData("--v1-name", "a:b", "--v1-name \"a:b\": a provider name must be non-empty, without ':' or spaces")]
    [InlineData("--endpoints", "127.0.0.1:2379", "--endpoints: \"127.0.0.1:2379\" is not an http:// or https:// URL")]
    public async Task Bad_input_gets_one_line_and_writes_nothing(string flag, string value, string message)
    {
        var revision = await RevisionAsync();
        string[] endpoints = flag == "--endpoints" ? [] : ["--endpoints", _etcd.Endpoint];
        var result = await PluginProcess.RunCliAsync(null, ["etcd", "write-samples", .. endpoints, "--socket", _plugin.SocketPath, flag, value]);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith($"kms-plugin etcd write-samples: {message}", result.Error);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(revision, await RevisionAsync());
    }

    [Fact]
    public async Task Help_says_it_is_for_demos_and_drills()
    {
        var help = await PluginProcess.RunCliAsync(null, "etcd", "write-samples", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("FOR DEMOS AND DRILLS ONLY", help.Output);
    }

    private async Task<ProcessResult> SamplesAsync(int expectedExitCode, params string[] extra)
    {
        var result = await PluginProcess.RunCliAsync(null, ["etcd", "write-samples", "--endpoints", _etcd.Endpoint, "--socket", _plugin.SocketPath, .. extra]);
        Assert.True(result.ExitCode == expectedExitCode, result.ToString());
        return result;
    }

    private async Task<JsonElement> VerifyAsync()
    {
        var result = await PluginProcess.RunCliAsync(null, "etcd", "verify", "--endpoints", _etcd.Endpoint, "--socket", _plugin.SocketPath, "--decrypt-check", "--output", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Output).RootElement;
    }

    private async Task<JsonElement> VerifyUntilPrimaryAsync(string rootKey)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var report = await VerifyAsync();
            if (report.GetProperty("primary_root_key").GetString() == rootKey)
            {
                return report;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the plugin never reloaded to primary {rootKey}:\n{_plugin.Log}");
            await Task.Delay(500);
        }
    }

    private async Task<byte[]> GetAsync(string key) =>
        (await _client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) })).Kvs.Single().Value.ToByteArray();

    private Task PutAsync(string key, byte[] value) =>
        _client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value) });

    private async Task<long> RevisionAsync() =>
        (await _client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("/") })).Header.Revision;
}
