using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.Core.Envelope;

/// <summary>An envelope and the primary root key (with its generation) that wrapped its DEK.</summary>
internal readonly record struct SealedEnvelope(byte[] Ciphertext, PrimaryRootKey RootKey);
