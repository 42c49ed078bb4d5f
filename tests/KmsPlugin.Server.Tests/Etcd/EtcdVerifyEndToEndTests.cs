using System.Security.Cryptography;
using System.Text.Json;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Server.Tests.Etcd;

/// <summary>
/// The seed's "verify secret encryption" step for a whole cluster: a kube-apiserver stand-in writes
/// Secrets through the real plugin into a real etcd, and `kms-plugin etcd verify` (the real
/// executable) reports how they are stored, across rotations, restarts and damage.
/// </summary>
public sealed class EtcdVerifyEndToEndTests : IAsyncLifetime
{
    private const int PerApi = 1000;
    private static readonly byte[] Passphrase = "etcd verify test passphrase"u8.ToArray();
    private static readonly KeystoreOptions WeakKdf = new() { Kdf = new KeystoreKdfParameters(1024, 1, 1), AllowWeakKdfForTests = true };

    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _dir = new();
    private readonly Dictionary<string, byte[]> _written = new(StringComparer.Ordinal);
    private EtcdServer _etcd = null!;
    private EtcdClient _client = null!;
    private KeystoreRootKeyProvider _provider = null!;
    private RunningPlugin _plugin = null!;

    public EtcdVerifyEndToEndTests(ITestOutputHelper output)
    {
        _output = output;
    }

    private string KeystorePath => _dir.File("keystore.json");

    public async Task InitializeAsync()
    {
        _etcd = await EtcdServer.StartAsync();
        _client = new EtcdClient(_etcd.Endpoint);
        KeystoreFile.Create(KeystorePath, Passphrase, WeakKdf).Dispose();
        await StartPluginAsync();
    }

    public async Task DisposeAsync()
    {
        await _plugin.DisposeAsync();
        _provider.Dispose();
        _client.Dispose();
        await _etcd.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    [Trait(PluginExecutable.Trait, PluginExecutable.Category)]
    public async Task Verify_follows_secrets_through_rotation_restart_and_damage()
    {
        var standIn = new KubeApiserverStandIn(_client, _plugin.Channel);
        for (var i = 0; i < 2 * PerApi; i++)
        {
            var key = $"/registry/secrets/ns{i % 10}/secret-{i:D5}";
            var secret = SecretJson(i);
            _written[key] = secret;
            await standIn.WriteAsync(key, secret, v2: i % 2 == 1);
        }

        await AssertStoredEncryptedAsync();
        var revisionBefore = await RevisionAsync();
        var rootA = SingleRootKey(await VerifyAsync(0, "--decrypt-check"));
        Assert.Equal(revisionBefore, await RevisionAsync());

        // Rotation: promote B, rewrite everything (kubectl get … | kubectl replace -f -).
        var rootB = Promote();
        var beforeRewrite = await VerifyAsync(0);
        Assert.Equal(2 * PerApi, beforeRewrite.GetProperty("on_older_root_key").GetArrayLength());
        foreach (var key in _written.Keys)
        {
            await standIn.RewriteAsync(key);
        }

        var afterRewrite = await VerifyAsync(0);
        Assert.Equal(rootB, SingleRootKey(afterRewrite));
        Assert.NotEqual(rootA, rootB);
        Assert.Equal(0, afterRewrite.GetProperty("on_older_root_key").GetArrayLength());

        // A second rotation and a plugin restart: nothing lost, all of it reads back exactly.
        Promote();
        await _plugin.DisposeAsync();
        _provider.Dispose();
        await StartPluginAsync();
        standIn = new KubeApiserverStandIn(_client, _plugin.Channel);
        foreach (var (key, secret) in _written)
        {
            Assert.Equal(secret, await standIn.ReadAsync(key));
        }

        var checkedAll = await VerifyAsync(0, "--decrypt-check");
        Assert.Equal(2 * PerApi, checkedAll.GetProperty("decrypted_ok").GetInt64());

        // Damage: plaintext Secrets, tampered values, and one under a root key this plugin never had.
        var plaintextKeys = new[] { "/registry/secrets/late/plain-1", "/registry/secrets/late/plain-2", "/registry/secrets/late/plain-3" };
        foreach (var key in plaintextKeys)
        {
            await PutAsync(key, SecretJson(99));
        }

        var tampered = _written.Keys.Take(2).ToArray();
        foreach (var key in tampered)
        {
            var value = await GetAsync(key);
            value[^5] ^= 0x01;
            await PutAsync(key, value);
        }

        var foreignKey = "/registry/secrets/late/foreign";
        await using (var foreign = await RunningPlugin.StartAsync(TestKeys.Development()))
        {
            await new KubeApiserverStandIn(_client, foreign.Channel).WriteAsync(foreignKey, SecretJson(7), v2: true);
        }

        var damaged = await VerifyAsync(1, "--decrypt-check");
        Assert.Equal(plaintextKeys, damaged.GetProperty("plaintext").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(tampered.Order(), damaged.GetProperty("unreadable").EnumerateArray().Select(e => e.GetProperty("key").GetString()).Order());
        Assert.Equal(foreignKey, Assert.Single(damaged.GetProperty("unknown_root_key").EnumerateArray()).GetProperty("key").GetString());

        var table = await PluginProcess.RunCliAsync(null, "etcd", "verify", "--endpoints", _etcd.Endpoint, "--socket", _plugin.SocketPath);
        Assert.Equal(1, table.ExitCode);
        Assert.Contains("!!! DATA ABOUT TO BE LOST: 1 values", table.Output);
        Assert.Contains("result: FAILED", table.Output);
        Assert.DoesNotContain("api_key", table.Output + table.Error);
    }

    [Fact]
    public async Task A_scan_of_ten_thousand_keys_is_measured()
    {
        var standIn = new KubeApiserverStandIn(_client, _plugin.Channel);
        await standIn.WriteAsync("/registry/secrets/a/template-v1", SecretJson(1), v2: false);
        await standIn.WriteAsync("/registry/secrets/a/template-v2", SecretJson(2), v2: true);
        var templates = new[] { await GetAsync("/registry/secrets/a/template-v1"), await GetAsync("/registry/secrets/a/template-v2") };
        for (var i = 0; i < 9998; i++)
        {
            // Copies under other keys: readable for classification and root keys, not for --decrypt-check (AAD).
            await PutAsync($"/registry/secrets/bulk/s{i:D5}", templates[i % 2]);
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var report = await VerifyAsync(0);
        watch.Stop();

        Assert.Equal(10_000, report.GetProperty("scanned").GetInt64());
        _output.WriteLine($"etcd verify --socket over 10,000 keys: {watch.Elapsed.TotalSeconds:F1} s including process start ({10_000 / watch.Elapsed.TotalSeconds:F0} keys/s)");
    }

    private async Task StartPluginAsync()
    {
        using (var keystore = KeystoreFile.Load(KeystorePath, Passphrase, WeakKdf))
        {
            _provider = new KeystoreRootKeyProvider(keystore);
        }

        _plugin = await RunningPlugin.StartAsync(_provider);
    }

    private string Promote()
    {
        using var keystore = KeystoreFile.Load(KeystorePath, Passphrase, WeakKdf);
        var id = keystore.Promote(keystore.AddKey().Id).Id;
        _provider.Reload(keystore);
        return id;
    }

    private async Task<JsonElement> VerifyAsync(int expectedExitCode, params string[] extra)
    {
        var result = await PluginProcess.RunCliAsync(null, ["etcd", "verify", "--endpoints", _etcd.Endpoint, "--socket", _plugin.SocketPath, "--output", "json", .. extra]);
        Assert.True(result.ExitCode == expectedExitCode, result.ToString());
        Assert.Matches(@"scanned \d+ of \d+\n", result.Error.Replace("\r\n", "\n"));
        var report = JsonDocument.Parse(result.Output).RootElement;
        foreach (var secret in _written.Values.Take(5))
        {
            Assert.DoesNotContain(System.Text.Encoding.UTF8.GetString(secret), result.Output);
        }

        return report;
    }

    private static string SingleRootKey(JsonElement report)
    {
        var byRoot = report.GetProperty("by_root_key").EnumerateObject().ToList();
        var only = Assert.Single(byRoot);
        Assert.Equal(2 * PerApi, only.Value.GetInt64());
        Assert.Equal(only.Name, report.GetProperty("primary_root_key").GetString());
        Assert.Equal(0, report.GetProperty("plaintext").GetArrayLength());
        Assert.True(report.GetProperty("passed").GetBoolean());
        return only.Name;
    }

    /// <summary>What the seed checks by hand, done with etcdctl itself for every key: the prefix, and no Secret byte in clear.</summary>
    private async Task AssertStoredEncryptedAsync()
    {
        var etcdctl = await ProcessRunner.RunAsync("etcdctl", ["--endpoints", _etcd.Endpoint, "get", "--prefix", "/registry/secrets/", "-w", "json"], new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        Assert.True(etcdctl.ExitCode == 0, etcdctl.ToString());
        var kvs = JsonDocument.Parse(etcdctl.Output).RootElement.GetProperty("kvs").EnumerateArray().ToList();
        Assert.Equal(_written.Count, kvs.Count);
        foreach (var kv in kvs)
        {
            var key = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("key").GetString()!));
            var stored = Convert.FromBase64String(kv.GetProperty("value").GetString()!);
            Assert.True(stored.AsSpan().StartsWith("k8s:enc:kms:v1:ibm:"u8) || stored.AsSpan().StartsWith("k8s:enc:kms:v2:kms-plugin:"u8), key);
            Assert.Equal(-1, stored.AsSpan().IndexOf(SecretValue(_written[key])));
        }
    }

    /// <summary>etcd's store revision: any write, even of an identical value, moves it.</summary>
    private async Task<long> RevisionAsync() =>
        (await _client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("/"), CountOnly = true })).Header.Revision;

    private async Task<byte[]> GetAsync(string key) =>
        (await _client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) })).Kvs.Single().Value.ToByteArray();

    private Task PutAsync(string key, byte[] value) =>
        _client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value) });

    private static byte[] SecretJson(int i) => System.Text.Encoding.UTF8.GetBytes(
        $$$"""{"kind":"Secret","apiVersion":"v1","metadata":{"name":"secret-{{{i}}}"},"data":{"api_key":"{{{Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}}}"}}""");

    private static byte[] SecretValue(byte[] secretJson)
    {
        var text = System.Text.Encoding.UTF8.GetString(secretJson);
        var start = text.IndexOf("\"api_key\":\"", StringComparison.Ordinal) + 11;
        return System.Text.Encoding.UTF8.GetBytes(text[start..text.IndexOf('"', start)]);
    }
}
