using System.Security.Cryptography;
using KmsPlugin.Core.Envelope;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.EtcdValues;

namespace KmsPlugin.Fuzz.Targets;

/// <summary>
/// kube-apiserver etcd values through the prefix classifier, the KMS v1 and v2 envelope parsers, the
/// EncryptedObject codec and the plugin key id reader: only <see cref="EtcdValueException"/> escapes.
/// </summary>
internal sealed class KubeValueTarget(string repositoryRoot) : IFuzzTarget
{
    public string Name => "kube-value";

    public IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        var vectors = Path.Combine(repositoryRoot, "..", "shared", "testdata", "kube-envelope");
        foreach (var file in Directory.EnumerateFiles(vectors, "*.bin"))
        {
            yield return (Path.GetFileNameWithoutExtension(file), File.ReadAllBytes(file));
        }

        using var provider = KeystoreRootKeyProvider.CreateDevelopment();
        using var encryptor = new EnvelopeEncryptor(provider, new EnvelopeOptions(), TimeProvider.System);
        var dek = RandomNumberGenerator.GetBytes(32);
        var wrapped = encryptor.EncryptAsync(dek, default).AsTask().GetAwaiter().GetResult().Ciphertext;
        var etcdKey = "/registry/secrets/default/fuzz"u8.ToArray();
        yield return ("kmsv1-plugin", KmsV1Envelope.Seal("kms-plugin", wrapped, dek, "secret"u8.ToArray(), etcdKey));
        var annotations = new Dictionary<string, byte[]> { ["root-key.kms-plugin.example.io"] = "kek-1"u8.ToArray() };
        yield return ("kmsv2-plugin", KmsV2Envelope.Seal(
            "kms-plugin", EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed, dek, "kek-1@1", wrapped, annotations, "secret"u8.ToArray(), etcdKey));
    }

    public void Run(byte[] input)
    {
        var classified = EtcdValuePrefix.Classify(input);
        if (!input.AsSpan().EndsWith(classified.Rest.Span))
        {
            throw new PropertyViolation("the classified rest is not the end of the value");
        }

        Documented(() => PluginKeyIdReader.Read(input));
        Documented(() => KmsV1Envelope.Parse(input));
        Documented(() => KmsV2Envelope.Parse(input));
        Documented(() => EncryptedObjectRules.Validate(EncryptedObjectCodec.Parse(classified.Rest)));
    }

    private static void Documented(Action parse)
    {
        try
        {
            parse();
        }
        catch (EtcdValueException)
        {
        }
    }
}
