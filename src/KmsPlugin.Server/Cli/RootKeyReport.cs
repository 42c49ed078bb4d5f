using System.Globalization;
using System.Text.Json.Nodes;
using Grpc.Core;
using KmsPlugin.Protocol.Plugin.V1;

namespace KmsPlugin.Server.Cli;

/// <summary>
/// The root-key part of `status`: ids, roles and key check values from the plugin's own
/// RootKeyService, as a table or inside the `--json` document.
/// </summary>
internal static class RootKeyReport
{
    /// <summary>The listing, or null after writing why it failed to <paramref name="error"/>.</summary>
    public static async Task<ListRootKeysResponse?> FetchAsync(ChannelBase channel, TimeSpan timeout, TextWriter error, CancellationToken cancellationToken)
    {
        var client = new RootKeyService.RootKeyServiceClient(channel);
        try
        {
            return await client.ListRootKeysAsync(new ListRootKeysRequest(), new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken));
        }
        catch (RpcException ex)
        {
            await error.WriteLineAsync($"unhealthy: listing the root keys failed: {ex.StatusCode}: {ex.Status.Detail}");
            return null;
        }
    }

    public static async Task WriteTextAsync(TextWriter output, ListRootKeysResponse listing)
    {
        await output.WriteLineAsync($"root keys ({listing.Provider}):");
        await output.WriteLineAsync($"  {"ID",-40} {"ROLE",-13} {"GENERATION",-10} {"EXPIRES",-20} KEY CHECK VALUE");
        foreach (var key in listing.RootKeys)
        {
            var generation = key.Generation > 0 ? key.Generation.ToString(CultureInfo.InvariantCulture) : "-";
            await output.WriteLineAsync($"  {key.Id,-40} {RoleName(key.Role),-13} {generation,-10} {Expiry(key) ?? "-",-20} {key.KeyCheckValue}");
        }
    }

    // A JsonNode tree rather than serialised anonymous types, so the NativeAOT build needs no reflection.
    public static string ToJson(bool healthy, ListRootKeysResponse? listing)
    {
        JsonArray? keys = null;
        if (listing is not null)
        {
            keys = [];
            foreach (var key in listing.RootKeys)
            {
                keys.Add((JsonNode)new JsonObject
                {
                    ["id"] = key.Id,
                    ["role"] = RoleName(key.Role),
                    ["generation"] = key.Generation > 0 ? key.Generation : null,
                    ["expiresAt"] = Expiry(key),
                    ["keyCheckValue"] = key.KeyCheckValue,
                });
            }
        }

        return new JsonObject
        {
            ["healthy"] = healthy,
            ["provider"] = listing?.Provider,
            ["rootKeys"] = keys,
        }.ToJsonString();
    }

    private static string? Expiry(RootKey key) =>
        key.ExpiresAt?.ToDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string RoleName(RootKeyRole role) => role switch
    {
        RootKeyRole.Primary => "primary",
        RootKeyRole.DecryptOnly => "decrypt-only",
        RootKeyRole.Disabled => "disabled",
        _ => "unknown",
    };
}
