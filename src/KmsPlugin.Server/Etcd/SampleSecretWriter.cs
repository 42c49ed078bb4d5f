using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.EtcdValues;

namespace KmsPlugin.Server.Etcd;

/// <summary>
/// Writes demo Secrets into etcd through the plugin as kube-apiserver would, and rewrites them
/// after a rotation as `kubectl replace` would make kube-apiserver do. It only ever writes keys
/// named <c>/registry/secrets/&lt;namespace&gt;/sample-v1-N</c> and <c>sample-v2-N</c>, and a rewrite only
/// values that decrypt to one of its samples.
/// </summary>
internal sealed class SampleSecretWriter
{
    public const string RegistryPrefix = "/registry/";

    private readonly EtcdClient _etcd;
    private readonly KubeApiserverEnvelopes _envelopes;
    private readonly string _namespace;

    public SampleSecretWriter(EtcdClient etcd, KubeApiserverEnvelopes envelopes, string @namespace)
    {
        _etcd = etcd;
        _envelopes = envelopes;
        _namespace = @namespace;
    }

    /// <summary>The etcd key of sample <paramref name="number"/> for one API.</summary>
    public string Key(bool v2, int number) => $"/registry/secrets/{_namespace}/sample-{(v2 ? "v2" : "v1")}-{number}";

    public Task<long> CountRegistryKeysAsync(CancellationToken cancellationToken) =>
        new EtcdKeyScanner(_etcd).CountAsync(RegistryPrefix, cancellationToken);

    public async Task<string> WriteAsync(bool v2, int number, string providerName, CancellationToken cancellationToken)
    {
        var key = Key(v2, number);
        var plaintext = SampleSecret.Create(_namespace, $"sample-{(v2 ? "v2" : "v1")}-{number}", DateTimeOffset.UtcNow);
        await PutAsync(key, await _envelopes.SealAsync(key, plaintext, v2, providerName, cancellationToken), cancellationToken);
        return key;
    }

    /// <summary>Every sample in the namespace read back and written again under the plugin's current keys; what was skipped and why.</summary>
    public async Task<(IReadOnlyList<string> Rewritten, IReadOnlyList<(string Key, string Reason)> Skipped)> RewriteAsync(CancellationToken cancellationToken)
    {
        var rewritten = new List<string>();
        var skipped = new List<(string, string)>();
        var samples = new List<(string Key, ReadOnlyMemory<byte> Value)>();
        await foreach (var entry in new EtcdKeyScanner(_etcd).ScanAsync($"/registry/secrets/{_namespace}/sample-", cancellationToken))
        {
            samples.Add(entry);
        }

        foreach (var (key, value) in samples)
        {
            var classified = EtcdValuePrefix.Classify(value);
            if (classified.Kind is not (EtcdValueKind.KmsV1 or EtcdValueKind.KmsV2))
            {
                skipped.Add((key, "not a KMS v1 or v2 value"));
                continue;
            }

            byte[] plaintext;
            try
            {
                plaintext = await _envelopes.OpenAsync(key, value, cancellationToken);
            }
            catch (EtcdValueException ex)
            {
                skipped.Add((key, ex.Message));
                continue;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
            {
                // The plugin refused this value (e.g. its root key is not in the key ring); the others may still open.
                skipped.Add((key, $"the plugin refused it: {ex.Status.Detail}"));
                continue;
            }

            if (!SampleSecret.IsSample(plaintext))
            {
                skipped.Add((key, "not a sample written by this verb"));
                continue;
            }

            var v2 = classified.Kind == EtcdValueKind.KmsV2;
            await PutAsync(key, await _envelopes.SealAsync(key, plaintext, v2, classified.Name!, cancellationToken), cancellationToken);
            rewritten.Add(key);
        }

        return (rewritten, skipped);
    }

    private Task PutAsync(string key, byte[] value, CancellationToken cancellationToken) =>
        _etcd.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value) }, cancellationToken: cancellationToken);
}
