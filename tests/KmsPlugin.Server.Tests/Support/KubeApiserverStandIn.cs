using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.EtcdValues;
using KmsPlugin.Server.Etcd;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// kube-apiserver's reads and writes of Secrets, for tests without a kube-apiserver binary: the
/// envelopes are the plugin's own <see cref="KubeApiserverEnvelopes"/> (what `etcd write-samples`
/// uses), the values go to a real etcd.
/// </summary>
internal sealed class KubeApiserverStandIn
{
    public const string V1ProviderName = "ibm";
    public const string V2ProviderName = "kms-plugin";

    private readonly EtcdClient _etcd;
    private readonly KubeApiserverEnvelopes _envelopes;

    public KubeApiserverStandIn(EtcdClient etcd, ChannelBase plugin)
    {
        _etcd = etcd;
        _envelopes = new KubeApiserverEnvelopes(plugin, TimeSpan.FromSeconds(30));
    }

    public async Task WriteAsync(string etcdKey, byte[] plaintext, bool v2)
    {
        var value = await _envelopes.SealAsync(etcdKey, plaintext, v2, v2 ? V2ProviderName : V1ProviderName);
        await _etcd.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(etcdKey), Value = ByteString.CopyFrom(value) });
    }

    public async Task<byte[]> ReadAsync(string etcdKey) => await _envelopes.OpenAsync(etcdKey, await GetAsync(etcdKey));

    /// <summary>What `kubectl get secrets -A -o json | kubectl replace -f -` makes kube-apiserver do: read, write back.</summary>
    public async Task RewriteAsync(string etcdKey)
    {
        var v2 = EtcdValuePrefix.Classify(await GetAsync(etcdKey)).Kind == EtcdValueKind.KmsV2;
        await WriteAsync(etcdKey, await ReadAsync(etcdKey), v2);
    }

    private async Task<ReadOnlyMemory<byte>> GetAsync(string etcdKey) =>
        (await _etcd.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(etcdKey) })).Kvs.Single().Value.Memory;
}
