using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Core.RootKeys;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Etcd;

/// <summary>
/// Asks the running plugin what kube-apiserver would ask it: Decrypt of an encrypted DEK (v1) or
/// DEK source with its key_id (v2).
/// </summary>
internal sealed class PluginKeyChecker : DataKeyChecker
{
    private readonly V1.KeyManagementService.KeyManagementServiceClient _v1;
    private readonly V2.KeyManagementService.KeyManagementServiceClient _v2;
    private readonly TimeSpan _timeout;

    public PluginKeyChecker(ChannelBase channel, TimeSpan timeout)
    {
        _v1 = new V1.KeyManagementService.KeyManagementServiceClient(channel);
        _v2 = new V2.KeyManagementService.KeyManagementServiceClient(channel);
        _timeout = timeout;
    }

    protected override string MissingFrom => "in the plugin's key ring";

    /// <summary>The root key id part of the plugin's current KMS v2 key_id.</summary>
    public override async Task<string?> PrimaryRootKeyAsync(CancellationToken cancellationToken)
    {
        var status = await _v2.StatusAsync(new V2.StatusRequest(), Call(cancellationToken));
        return PrimaryRootKey.TryParseKeyId(status.KeyId, out var root, out _) ? root : null;
    }

    protected override async Task<OpenedDataKey> OpenDataKeyAsync(ParsedKmsValue value, CancellationToken cancellationToken)
    {
        try
        {
            return new(await DecryptAsync(value, cancellationToken), null, false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            return OpenedDataKey.Refused($"plugin: {ex.Status.Detail}", unknownRootKey: true);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            return OpenedDataKey.Refused($"plugin refused the encrypted DEK: {ex.Status.Detail}", unknownRootKey: false);
        }
    }

    private async Task<byte[]> DecryptAsync(ParsedKmsValue value, CancellationToken cancellationToken)
    {
        if (value.V1 is { } v1)
        {
            var response = await _v1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(v1.EncryptedDek.Span) }, Call(cancellationToken));
            return response.Plain.ToByteArray();
        }

        var stored = value.V2!.Object;
        var request = new V2.DecryptRequest { Ciphertext = ByteString.CopyFrom(stored.EncryptedDekSource.Span), KeyId = stored.KeyId, Uid = Guid.NewGuid().ToString() };
        foreach (var (name, annotation) in stored.Annotations)
        {
            request.Annotations.Add(name, ByteString.CopyFrom(annotation));
        }

        var decrypted = await _v2.DecryptAsync(request, Call(cancellationToken));
        return decrypted.Plaintext.ToByteArray();
    }

    private CallOptions Call(CancellationToken cancellationToken) => new(deadline: DateTime.UtcNow + _timeout, cancellationToken: cancellationToken);
}
