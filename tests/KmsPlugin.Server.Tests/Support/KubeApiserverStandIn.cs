using System.Security.Cryptography;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Kubernetes;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// What kube-apiserver does around the plugin, for tests without a kube-apiserver binary: KMS v1
/// makes a DEK per write and asks the plugin to Encrypt it; KMS v2 makes a seed once per key_id
/// and derives a key per write. Values go to a real etcd byte for byte as kube-apiserver writes them.
/// </summary>
internal sealed class KubeApiserverStandIn
{
    public const string V1ProviderName = "ibm";
    public const string V2ProviderName = "kms-plugin";

    private readonly EtcdClient _etcd;
    private readonly V1.KeyManagementService.KeyManagementServiceClient _v1;
    private readonly V2.KeyManagementService.KeyManagementServiceClient _v2;
    private readonly SemaphoreSlim _seedLock = new(1, 1);
    private (byte[] Seed, V2.EncryptResponse Encrypted)? _seed;

    public KubeApiserverStandIn(EtcdClient etcd, ChannelBase plugin)
    {
        _etcd = etcd;
        _v1 = new V1.KeyManagementService.KeyManagementServiceClient(plugin);
        _v2 = new V2.KeyManagementService.KeyManagementServiceClient(plugin);
    }

    public async Task WriteAsync(string etcdKey, byte[] plaintext, bool v2)
    {
        var aad = System.Text.Encoding.UTF8.GetBytes(etcdKey);
        byte[] value;
        if (!v2)
        {
            var dek = RandomNumberGenerator.GetBytes(32);
            var encrypted = await _v1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(dek) });
            value = KmsV1Envelope.Seal(V1ProviderName, encrypted.Cipher.Span, dek, plaintext, aad);
        }
        else
        {
            var (seed, response) = await CurrentSeedAsync();
            var annotations = response.Annotations.ToDictionary(a => a.Key, a => a.Value.ToByteArray());
            value = KmsV2Envelope.Seal(V2ProviderName, EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed, seed, response.KeyId, response.Ciphertext.Memory, annotations, plaintext, aad);
        }

        await _etcd.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(etcdKey), Value = ByteString.CopyFrom(value) });
    }

    public async Task<byte[]> ReadAsync(string etcdKey)
    {
        var value = (await _etcd.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(etcdKey) })).Kvs.Single().Value.Memory;
        var aad = System.Text.Encoding.UTF8.GetBytes(etcdKey);
        if (EtcdValuePrefix.Classify(value).Kind == EtcdValueKind.KmsV1)
        {
            var parsed = KmsV1Envelope.Parse(value);
            var dek = await _v1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(parsed.EncryptedDek.Span) });
            return KmsV1Envelope.Open(parsed, dek.Plain.Span, aad).Plaintext;
        }

        var stored = KmsV2Envelope.Parse(value).Object;
        var request = new V2.DecryptRequest { Ciphertext = ByteString.CopyFrom(stored.EncryptedDekSource.Span), KeyId = stored.KeyId, Uid = Guid.NewGuid().ToString() };
        var source = await _v2.DecryptAsync(request);
        return KmsV2Envelope.Open(stored, source.Plaintext.Span, aad);
    }

    /// <summary>What `kubectl get secrets -A -o json | kubectl replace -f -` makes kube-apiserver do: read, write back.</summary>
    public async Task RewriteAsync(string etcdKey)
    {
        var value = (await _etcd.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(etcdKey) })).Kvs.Single().Value.Memory;
        var v2 = EtcdValuePrefix.Classify(value).Kind == EtcdValueKind.KmsV2;
        await WriteAsync(etcdKey, await ReadAsync(etcdKey), v2);
    }

    /// <summary>kube-apiserver makes a new seed when Status reports a new key_id.</summary>
    private async Task<(byte[] Seed, V2.EncryptResponse Encrypted)> CurrentSeedAsync()
    {
        await _seedLock.WaitAsync();
        try
        {
            var keyId = (await _v2.StatusAsync(new V2.StatusRequest())).KeyId;
            if (_seed is not { } current || current.Encrypted.KeyId != keyId)
            {
                var seed = RandomNumberGenerator.GetBytes(32);
                var encrypted = await _v2.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(seed), Uid = Guid.NewGuid().ToString() });
                _seed = current = (seed, encrypted);
            }

            return current;
        }
        finally
        {
            _seedLock.Release();
        }
    }
}
