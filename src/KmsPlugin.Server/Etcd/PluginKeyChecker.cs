using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Core.Keys;
using KmsPlugin.Kubernetes;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Etcd;

/// <summary>
/// Asks the running plugin what kube-apiserver would ask it: Decrypt of an encrypted DEK (v1) or
/// DEK source with its key_id (v2). DEKs are cached by their encrypted form, as kube-apiserver
/// does, and zeroed when the checker is disposed; they never leave this type.
/// </summary>
internal sealed class PluginKeyChecker : IDisposable
{
    private readonly V1.KeyManagementService.KeyManagementServiceClient _v1;
    private readonly V2.KeyManagementService.KeyManagementServiceClient _v2;
    private readonly TimeSpan _timeout;
    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _rootKeyKnown = new(StringComparer.Ordinal);

    public PluginKeyChecker(ChannelBase channel, TimeSpan timeout)
    {
        _v1 = new V1.KeyManagementService.KeyManagementServiceClient(channel);
        _v2 = new V2.KeyManagementService.KeyManagementServiceClient(channel);
        _timeout = timeout;
    }

    /// <summary>The root key id part of the plugin's current KMS v2 key_id.</summary>
    public async Task<string?> PrimaryRootKeyAsync(CancellationToken cancellationToken)
    {
        var status = await _v2.StatusAsync(new V2.StatusRequest(), Call(cancellationToken));
        return PrimaryKeyEncryptionKey.TryParseKeyId(status.KeyId, out var root, out _) ? root : null;
    }

    /// <summary>
    /// Null when the value's DEK comes back from the plugin (and, with <paramref name="openPayload"/>,
    /// the payload opens under its etcd key); otherwise why not. <paramref name="unknownRootKey"/>
    /// says the plugin refused because it does not have the root key.
    /// </summary>
    public async Task<(string? Problem, bool UnknownRootKey)> CheckAsync(string etcdKey, ParsedKmsValue value, bool openPayload, CancellationToken cancellationToken)
    {
        var ids = value.Ids;
        if (_rootKeyKnown.TryGetValue(ids.RootKeyId, out var known))
        {
            if (!known)
            {
                return ($"root key \"{ids.RootKeyId}\" is not in the plugin's key ring", true);
            }

            if (!openPayload)
            {
                return (null, false);
            }
        }

        byte[] dek;
        try
        {
            dek = await DataKeyAsync(value, cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            _rootKeyKnown[ids.RootKeyId] = false;
            return ($"plugin: {ex.Status.Detail}", true);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            return ($"plugin refused the encrypted DEK: {ex.Status.Detail}", false);
        }

        _rootKeyKnown[ids.RootKeyId] = true;
        if (!openPayload)
        {
            return (null, false);
        }

        try
        {
            var etcdKeyBytes = System.Text.Encoding.UTF8.GetBytes(etcdKey);
            var plaintext = value.V1 is { } v1
                ? KmsV1Envelope.Open(v1, dek, etcdKeyBytes).Plaintext
                : KmsV2Envelope.Open(value.V2!.Object, dek, etcdKeyBytes);
            CryptographicOperations.ZeroMemory(plaintext);
            return (null, false);
        }
        catch (EtcdValueException ex)
        {
            return (ex.Message, false);
        }
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            CryptographicOperations.ZeroMemory(key);
        }

        _keys.Clear();
    }

    private async Task<byte[]> DataKeyAsync(ParsedKmsValue value, CancellationToken cancellationToken)
    {
        if (value.V1 is { } v1)
        {
            var encryptedDek = v1.EncryptedDek;
            var cacheKey = "v1:" + Convert.ToBase64String(encryptedDek.Span);
            if (!_keys.TryGetValue(cacheKey, out var dek))
            {
                var response = await _v1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(encryptedDek.Span) }, Call(cancellationToken));
                _keys[cacheKey] = dek = response.Plain.ToByteArray();
            }

            return dek;
        }

        var stored = value.V2!.Object;
        var v2Key = "v2:" + stored.KeyId + ":" + Convert.ToBase64String(stored.EncryptedDekSource.Span);
        if (!_keys.TryGetValue(v2Key, out var source))
        {
            var request = new V2.DecryptRequest { Ciphertext = ByteString.CopyFrom(stored.EncryptedDekSource.Span), KeyId = stored.KeyId, Uid = Guid.NewGuid().ToString() };
            foreach (var (name, annotation) in stored.Annotations)
            {
                request.Annotations.Add(name, ByteString.CopyFrom(annotation));
            }

            var response = await _v2.DecryptAsync(request, Call(cancellationToken));
            _keys[v2Key] = source = response.Plaintext.ToByteArray();
        }

        return source;
    }

    private CallOptions Call(CancellationToken cancellationToken) => new(deadline: DateTime.UtcNow + _timeout, cancellationToken: cancellationToken);
}
