namespace KmsPlugin.Core.Errors;

/// <summary>
/// An error whose <see cref="Exception.Message"/> is written for the caller: it may leave the
/// process. It never carries plaintext, key bytes or secrets.
/// </summary>
public sealed class KmsException : Exception
{
    public KmsException(KmsErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
    }

    public KmsErrorKind Kind { get; }

    public static KmsException CiphertextRejected(string reason) =>
        new(KmsErrorKind.InvalidCiphertext, $"ciphertext rejected: {reason}");

    public static KmsException UnknownKey(string keyId) =>
        new(KmsErrorKind.KeyUnavailable, $"root key \"{keyId}\" is not in the key ring");
}
