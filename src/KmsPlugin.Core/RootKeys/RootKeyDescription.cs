namespace KmsPlugin.Core.RootKeys;

/// <summary>
/// What may be shown about one root key (root key): never material. <see cref="CheckValue"/> is its
/// <see cref="KeyCheckValue"/>; <see cref="Generation"/> is set on the primary only (the <c>@n</c>
/// of the KMS v2 key_id).
/// </summary>
public sealed record RootKeyDescription(string Id, KeyState State, string CheckValue)
{
    public long? Generation { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }
}
