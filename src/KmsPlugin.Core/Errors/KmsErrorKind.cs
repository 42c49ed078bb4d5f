namespace KmsPlugin.Core.Errors;

/// <summary>The error classes of design.md; the server maps each to one gRPC status code.</summary>
public enum KmsErrorKind
{
    /// <summary>Malformed, truncated or unauthentic ciphertext; bad request fields. gRPC InvalidArgument.</summary>
    InvalidCiphertext,

    /// <summary>Root key unknown, disabled or expired for the requested use. gRPC FailedPrecondition.</summary>
    KeyUnavailable,

    /// <summary>The root-key provider cannot be reached or refuses us (token missing, login failed). gRPC Unavailable.</summary>
    ProviderUnavailable,

    /// <summary>The caller's deadline passed. gRPC DeadlineExceeded.</summary>
    DeadlineExceeded,

    /// <summary>Anything else. gRPC Internal, with an id that points into the plugin log.</summary>
    Internal,
}
