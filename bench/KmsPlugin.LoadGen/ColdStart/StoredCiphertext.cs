using Google.Protobuf;

namespace KmsPlugin.LoadGen.ColdStart;

/// <summary>What kube-apiserver keeps in etcd for one DEK: the ciphertext, and for v2 its key_id and annotations.</summary>
internal sealed record StoredCiphertext(ByteString Ciphertext, string KeyId, IDictionary<string, ByteString> Annotations);
