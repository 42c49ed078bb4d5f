namespace KmsPlugin.EtcdValues.Tests.Properties;

/// <summary>A valid etcd value (or bare data layer) with what opens it and what it holds.</summary>
internal sealed record KubeValueSample(byte[] Value, byte[] DekSource, byte[] Aad, byte[] Plaintext);
