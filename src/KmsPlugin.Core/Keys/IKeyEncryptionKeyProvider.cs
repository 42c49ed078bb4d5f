namespace KmsPlugin.Core.Keys;

/// <summary>A named backend holding a key ring: one primary and any number of decrypt-only keys.</summary>
public interface IKeyEncryptionKeyProvider
{
    /// <summary>Closed set, used as a metric label: "software", "pkcs11".</summary>
    string Name { get; }

    /// <summary>
    /// The key that wraps new DEKs. The same instance is returned until the ring changes, so a
    /// reference comparison tells the envelope engine that the primary moved.
    /// </summary>
    IKeyEncryptionKey Primary { get; }

    /// <summary>
    /// The key for unwrapping: primary or decrypt-only. Throws <see cref="Errors.KmsException"/>
    /// (<see cref="Errors.KmsErrorKind.KeyUnavailable"/>) naming the id when it is unknown or disabled.
    /// </summary>
    IKeyEncryptionKey GetForDecrypt(string keyId);
}
