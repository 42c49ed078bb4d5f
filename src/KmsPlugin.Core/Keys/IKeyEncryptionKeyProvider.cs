namespace KmsPlugin.Core.Keys;

/// <summary>A named backend holding a key ring: one primary and any number of decrypt-only keys.</summary>
public interface IKeyEncryptionKeyProvider
{
    /// <summary>Closed set, used as a metric label: "software", "pkcs11".</summary>
    string Name { get; }

    /// <summary>
    /// The key that wraps new DEKs, with the promotion generation. Equal values (record equality)
    /// until a promotion, so the envelope engine can tell that the primary moved.
    /// </summary>
    PrimaryKeyEncryptionKey Primary { get; }

    /// <summary>
    /// The key for unwrapping: primary or decrypt-only. Throws <see cref="Errors.KmsException"/>
    /// (<see cref="Errors.KmsErrorKind.KeyUnavailable"/>) naming the id when it is unknown or disabled.
    /// </summary>
    IKeyEncryptionKey GetForDecrypt(string keyId);
}
