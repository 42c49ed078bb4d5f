using KmsPlugin.Core.Keys;

namespace KmsPlugin.Core.Envelope;

/// <summary>An envelope and the primary root key (with its generation) that wrapped its DEK.</summary>
internal readonly record struct SealedEnvelope(byte[] Ciphertext, PrimaryKeyEncryptionKey RootKey);
