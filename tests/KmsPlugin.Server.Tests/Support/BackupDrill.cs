using System.Security.Cryptography;
using System.Text.Json;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// The pieces of the backup drill tests: Secrets written through the kube-apiserver stand-in, the
/// offline `etcd verify` run as a process, and proof that it wrote nothing (etcd revision, files).
/// </summary>
internal static class BackupDrill
{
    /// <summary>Writes <paramref name="count"/> Secrets, alternating KMS v1 and v2, and returns their etcd keys.</summary>
    public static async Task<IReadOnlyList<string>> WriteSecretsAsync(EtcdClient etcd, ChannelBase plugin, string batch, int count)
    {
        var standIn = new KubeApiserverStandIn(etcd, plugin);
        var keys = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var key = $"/registry/secrets/{batch}/secret-{i:D4}";
            var secret = System.Text.Encoding.UTF8.GetBytes(
                $$$"""{"kind":"Secret","apiVersion":"v1","metadata":{"name":"secret-{{{i}}}"},"data":{"token":"{{{Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}}}"}}""");
            await standIn.WriteAsync(key, secret, v2: i % 2 == 1);
            keys.Add(key);
        }

        return keys;
    }

    /// <summary>etcd's store revision: any write, even of an identical value, moves it.</summary>
    public static async Task<long> RevisionAsync(EtcdClient etcd) =>
        (await etcd.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("/"), CountOnly = true })).Header.Revision;

    /// <summary>`etcd verify --output json --decrypt-check` with <paramref name="rootKeys"/>; asserts the exit code and parses the report.</summary>
    public static async Task<JsonElement> VerifyJsonAsync(IDictionary<string, string>? environment, string endpoint, int expectedExitCode, params string[] rootKeys)
    {
        var result = await PluginProcess.RunCliAsync(environment, ["etcd", "verify", "--endpoints", endpoint, "--decrypt-check", "--output", "json", .. rootKeys]);
        Assert.True(result.ExitCode == expectedExitCode, result.ToString());
        Assert.DoesNotContain("\"token\"", result.Output + result.Error);
        return JsonDocument.Parse(result.Output).RootElement;
    }

    /// <summary>What a drill with a stale backup must say: exactly <paramref name="missing"/> unreadable, all under <paramref name="missingRootKey"/>.</summary>
    public static void AssertBackupCannotRead(JsonElement report, IReadOnlyList<string> missing, string missingRootKey, string presentRootKey, int readable)
    {
        Assert.False(report.GetProperty("passed").GetBoolean());
        var counts = report.GetProperty("counts");
        Assert.Equal(missing.Count, counts.GetProperty("unknown_root_key").GetInt64());
        Assert.Equal(0, counts.GetProperty("unreadable").GetInt64());
        Assert.Equal(0, counts.GetProperty("plaintext").GetInt64());
        Assert.Equal(readable, counts.GetProperty("decrypted_ok").GetInt64());
        var byMissing = Assert.Single(report.GetProperty("unknown_root_key_counts").EnumerateObject());
        Assert.Equal(missingRootKey, byMissing.Name);
        Assert.Equal(missing.Count, byMissing.Value.GetInt64());
        Assert.Equal(missing.Order(StringComparer.Ordinal), report.GetProperty("unknown_root_key").EnumerateArray().Select(e => e.GetProperty("key").GetString()!).Order(StringComparer.Ordinal));
        var rootKeys = report.GetProperty("root_keys").EnumerateArray().ToDictionary(e => e.GetProperty("id").GetString()!, e => e.GetProperty("available").GetBoolean());
        Assert.Equal(new Dictionary<string, bool> { [presentRootKey] = true, [missingRootKey] = false }, rootKeys);
    }

    /// <summary>A backup that reads everything: every value opened under its etcd key.</summary>
    public static void AssertReadsEverything(JsonElement report, int total)
    {
        Assert.True(report.GetProperty("passed").GetBoolean(), report.ToString());
        var counts = report.GetProperty("counts");
        Assert.Equal(total, counts.GetProperty("encrypted").GetInt64());
        Assert.Equal(total, counts.GetProperty("kms_plugin").GetInt64());
        Assert.Equal(total, counts.GetProperty("decrypted_ok").GetInt64());
        Assert.Equal(0, counts.GetProperty("unknown_root_key").GetInt64());
        Assert.All(report.GetProperty("root_keys").EnumerateArray(), e => Assert.True(e.GetProperty("available").GetBoolean()));
    }

    /// <summary>Every file under <paramref name="directory"/> (sockets aside) with its bytes and modification time: the drill must change none.</summary>
    public static IReadOnlyDictionary<string, (string Sha256, DateTime Modified)> Files(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".sock", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetRelativePath(directory, f), f => (Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))), File.GetLastWriteTimeUtc(f)));
}
