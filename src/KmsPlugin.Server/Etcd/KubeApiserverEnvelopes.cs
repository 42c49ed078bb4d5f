using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.EtcdValues;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Etcd;

/// <summary>
/// What kube-apiserver does around a KMS plugin when it stores a value: KMS v1 makes a DEK per
/// write and asks the plugin to Encrypt it; KMS v2 makes a seed once per key_id and derives a key
/// per write. The values are byte for byte what kube-apiserver puts into etcd. DEKs and seeds
/// never leave this type.
/// </summary>
internal sealed class KubeApiserverEnvelopes : IDisposable
{
    private readonly V1.KeyManagementService.KeyManagementServiceClient _v1;
    private readonly V2.KeyManagementService.KeyManagementServiceClient _v2;
    private readonly TimeSpan _timeout;
    private readonly SemaphoreSlim _seedLock = new(1, 1);
    private (byte[] Seed, V2.EncryptResponse Encrypted)? _seed;

    public KubeApiserverEnvelopes(ChannelBase plugin, TimeSpan timeout)
    {
        _v1 = new V1.KeyManagementService.KeyManagementServiceClient(plugin);
        _v2 = new V2.KeyManagementService.KeyManagementServiceClient(plugin);
        _timeout = timeout;
    }

    /// <summary>The etcd value for <paramref name="plaintext"/> under <paramref name="etcdKey"/> (the AAD), written through provider <paramref name="providerName"/>.</summary>
    public async Task<byte[]> SealAsync(string etcdKey, byte[] plaintext, bool v2, string providerName, CancellationToken cancellationToken = default)
    {
        var aad = Encoding.UTF8.GetBytes(etcdKey);
        if (!v2)
        {
            var dek = RandomNumberGenerator.GetBytes(32);
            try
            {
                var encrypted = await _v1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(dek) }, Call(cancellationToken));
                return KmsV1Envelope.Seal(providerName, encrypted.Cipher.Span, dek, plaintext, aad);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(dek);
            }
        }

        var (seed, response) = await CurrentSeedAsync(cancellationToken);
        var annotations = response.Annotations.ToDictionary(a => a.Key, a => a.Value.ToByteArray());
        return KmsV2Envelope.Seal(providerName, EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed, seed, response.KeyId, response.Ciphertext.Memory, annotations, plaintext, aad);
    }

    /// <summary>The plaintext of a KMS v1 or v2 value, as kube-apiserver reads it back.</summary>
    public async Task<byte[]> OpenAsync(string etcdKey, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        var aad = Encoding.UTF8.GetBytes(etcdKey);
        switch (EtcdValuePrefix.Classify(value).Kind)
        {
            case EtcdValueKind.KmsV1:
                var parsed = KmsV1Envelope.Parse(value);
                var dek = await _v1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(parsed.EncryptedDek.Span) }, Call(cancellationToken));
                return KmsV1Envelope.Open(parsed, dek.Plain.Span, aad).Plaintext;
            case EtcdValueKind.KmsV2:
                var stored = KmsV2Envelope.Parse(value).Object;
                var request = new V2.DecryptRequest { Ciphertext = ByteString.CopyFrom(stored.EncryptedDekSource.Span), KeyId = stored.KeyId, Uid = Guid.NewGuid().ToString() };
                var source = await _v2.DecryptAsync(request, Call(cancellationToken));
                return KmsV2Envelope.Open(stored, source.Plaintext.Span, aad);
            default:
                throw EtcdValueException.Malformed("not a KMS v1 or v2 value");
        }
    }

    public void Dispose()
    {
        if (_seed is { } current)
        {
            CryptographicOperations.ZeroMemory(current.Seed);
        }

        _seedLock.Dispose();
    }

    /// <summary>kube-apiserver makes a new seed when Status reports a new key_id.</summary>
    private async Task<(byte[] Seed, V2.EncryptResponse Encrypted)> CurrentSeedAsync(CancellationToken cancellationToken)
    {
        await _seedLock.WaitAsync(cancellationToken);
        try
        {
            var keyId = (await _v2.StatusAsync(new V2.StatusRequest(), Call(cancellationToken))).KeyId;
            if (_seed is not { } current || current.Encrypted.KeyId != keyId)
            {
                var seed = RandomNumberGenerator.GetBytes(32);
                var encrypted = await _v2.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(seed), Uid = Guid.NewGuid().ToString() }, Call(cancellationToken));
                if (_seed is { } old)
                {
                    CryptographicOperations.ZeroMemory(old.Seed);
                }

                _seed = current = (seed, encrypted);
            }

            return current;
        }
        finally
        {
            _seedLock.Release();
        }
    }

    private CallOptions Call(CancellationToken cancellationToken) => new(deadline: DateTime.UtcNow + _timeout, cancellationToken: cancellationToken);
}
