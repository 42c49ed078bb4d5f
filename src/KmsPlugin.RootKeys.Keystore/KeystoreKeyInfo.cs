using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.RootKeys.Keystore;

/// <summary>What <c>keystore list</c> shows about one root key: everything but the material.</summary>
internal sealed record KeystoreKeyInfo(string Id, KeyState State, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt)
{
    public bool IsExpiredAt(DateTimeOffset now) => ExpiresAt is { } expiry && expiry <= now;
}
