namespace KmsPlugin.Core.RootKeys;

/// <summary>A named backend holding a key ring: one primary and any number of decrypt-only keys.</summary>
public interface IRootKeyProvider
{
    /// <summary>Closed set, used as a metric label: "software", "pkcs11".</summary>
    string Name { get; }

    /// <summary>
    /// The key that wraps new DEKs, with the promotion generation. Equal values (record equality)
    /// until a promotion, so the envelope engine can tell that the primary moved.
    /// </summary>
    PrimaryRootKey Primary { get; }

    /// <summary>
    /// The primary as last known, from memory only: never reaches the backend, never blocks, ignores
    /// expiry; null before the backend was first reached. For KMS v2 Status.
    /// </summary>
    PrimaryRootKey? KnownPrimary { get; }

    /// <summary>
    /// The key for unwrapping: primary or decrypt-only. Throws <see cref="Errors.KmsException"/>
    /// (<see cref="Errors.KmsErrorKind.KeyUnavailable"/>) naming the id when it is unknown or disabled.
    /// </summary>
    IRootKey GetForDecrypt(string keyId);

    /// <summary>
    /// Moves whenever <see cref="GetForDecrypt"/> may answer differently for some id (a reload that
    /// disabled or dropped a key); 0 while the provider is not settled, meaning "ask every time". The
    /// envelope engine checks a cached data key's root key again only when this has moved since it last did.
    /// </summary>
    long KeyRingVersion { get; }

    /// <summary>
    /// True when the provider holds <paramref name="rootKeyId"/> but never reported
    /// <c>&lt;rootKeyId&gt;@&lt;generation&gt;</c> as its primary's key_id; KMS v2 Decrypt refuses
    /// those. False for root keys it does not hold (<see cref="GetForDecrypt"/> reports them).
    /// Answered from memory, never a root-key call.
    /// </summary>
    bool NeverIssued(string rootKeyId, long generation);
}
