using System.Globalization;

namespace KmsPlugin.Core.RootKeys;

/// <summary>
/// The primary root key together with the ring's promotion generation, read as one value.
/// <see cref="KeyId"/> is what KMS v2 reports as <c>key_id</c>: it changes with every promotion,
/// so a rotation A→B→A reports three different ids (kube-apiserver requires that an id is
/// never reused for another key period).
/// </summary>
public sealed record PrimaryRootKey
{
    public const char GenerationSeparator = '@';

    public PrimaryRootKey(IRootKey key, long generation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(generation, 1);
        Key = key;
        Generation = generation;
        KeyId = string.Create(CultureInfo.InvariantCulture, $"{key.Id}{GenerationSeparator}{generation}");
    }

    public IRootKey Key { get; }

    public long Generation { get; }

    /// <summary>When the key may no longer wrap new data keys; null when it does not expire.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary><c>&lt;root key id&gt;@&lt;generation&gt;</c>, e.g. <c>kek-20261128-1a2b3c4d@3</c>. ASCII, never secret.</summary>
    public string KeyId { get; }

    /// <summary>Splits a key id made by <see cref="KeyId"/>; false for anything else, leading zeros included.</summary>
    public static bool TryParseKeyId(string keyId, out string rootKeyId, out long generation)
    {
        rootKeyId = "";
        generation = 0;
        var at = keyId.LastIndexOf(GenerationSeparator);
        if (at <= 0 || keyId.AsSpan(at + 1).StartsWith("0") ||
            !long.TryParse(keyId.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out generation) || generation < 1)
        {
            return false;
        }

        rootKeyId = keyId[..at];
        return true;
    }
}
