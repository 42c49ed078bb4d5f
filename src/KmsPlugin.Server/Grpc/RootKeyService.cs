using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Protocol.Plugin.V1;
using KmsPlugin.Server.RootKeys.Faults;

namespace KmsPlugin.Server.Grpc;

/// <summary>
/// kms-plugin's own <c>kmsplugin.v1.RootKeyService</c>: the root keys with their roles and key check
/// values, so `status` on every node can show whether the nodes hold the same keys.
/// </summary>
internal sealed class RootKeyService : Protocol.Plugin.V1.RootKeyService.RootKeyServiceBase
{
    private readonly IRootKeyProvider _provider;

    public RootKeyService(IRootKeyProvider provider)
    {
        _provider = provider;
    }

    public override Task<ListRootKeysResponse> ListRootKeys(ListRootKeysRequest request, ServerCallContext context)
    {
        if (_provider is not IRootKeyCatalog catalog || _provider is FaultInjectingRootKeyProvider { Inner: not IRootKeyCatalog })
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, $"the \"{_provider.Name}\" root-key provider cannot list its keys"));
        }

        var response = new ListRootKeysResponse { Provider = _provider.Name };
        response.RootKeys.Add(catalog.DescribeKeys().Select(ToMessage));
        return Task.FromResult(response);
    }

    private static RootKey ToMessage(RootKeyDescription key) => new()
    {
        Id = key.Id,
        Role = key.State switch
        {
            KeyState.Primary => RootKeyRole.Primary,
            KeyState.DecryptOnly => RootKeyRole.DecryptOnly,
            _ => RootKeyRole.Disabled,
        },
        Generation = key.Generation ?? 0,
        ExpiresAt = key.ExpiresAt is { } expiry ? Timestamp.FromDateTimeOffset(expiry) : null,
        KeyCheckValue = key.CheckValue,
    };
}
