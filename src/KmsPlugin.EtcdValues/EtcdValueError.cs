namespace KmsPlugin.EtcdValues;

/// <summary>Why an etcd value was rejected. Every one means kube-apiserver could not read it either.</summary>
internal enum EtcdValueError
{
    /// <summary>The bytes do not parse: wrong prefix, truncation, bad length, bad protobuf.</summary>
    Malformed,

    /// <summary>The value parses but breaks a rule kube-apiserver checks (empty field, unknown DEK source type, bad annotation key, bad key size).</summary>
    Invalid,

    /// <summary>The payload does not open under the given key and etcd key (GCM tag mismatch, bad CBC padding).</summary>
    AuthenticationFailed,

    /// <summary>The encrypted DEK or DEK source is not a kms-plugin ciphertext, so it names no root key.</summary>
    NotPluginCiphertext,
}
