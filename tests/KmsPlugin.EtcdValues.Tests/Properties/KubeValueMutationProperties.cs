using System.Security.Cryptography;
using KmsPlugin.Core.Envelope;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Tests.Shared.Properties;
using static KmsPlugin.EtcdValues.Tests.KubeEnvelopeVectors;

namespace KmsPlugin.EtcdValues.Tests.Properties;

/// <summary>
/// Mutated etcd values through every reader of kube-apiserver's formats: the prefix classifier, the
/// KMS v1 and v2 envelope parsers, the EncryptedObject protobuf codec, the plugin key id reader and
/// the payload openers. Only <see cref="EtcdValueException"/> escapes, and a payload opens only to
/// the plaintext it was sealed with.
/// </summary>
public sealed class KubeValueMutationProperties
{
    private const int Cases = 100_000;

    [Fact]
    public void Mutated_etcd_values_fail_with_etcd_value_exception_and_never_open_to_other_plaintext()
    {
        var samples = EtcdValueSamples();
        var counts = new Dictionary<string, int>();
        void Count(string what) => counts[what] = counts.GetValueOrDefault(what) + 1;

        FixedSeedProperty.Check(ByteMutations.Of(samples.Select(s => s.Value).ToArray()), mutant =>
        {
            var classified = EtcdValuePrefix.Classify(mutant.Bytes);
            Assert.True(mutant.Bytes.AsSpan().EndsWith(classified.Rest.Span));
            try
            {
                switch (classified.Kind)
                {
                    case EtcdValueKind.KmsV1:
                        OpenV1(KmsV1Envelope.Parse(mutant.Bytes), samples, Count);
                        break;
                    case EtcdValueKind.KmsV2:
                        OpenV2(KmsV2Envelope.Parse(mutant.Bytes), samples, Count);
                        break;
                    default:
                        Count($"classified {classified.Kind}");
                        return;
                }

                PluginKeyIdReader.Read(mutant.Bytes);
                Count("key ids read");
            }
            catch (EtcdValueException e)
            {
                Count(e.Error.ToString());
            }
        }, Cases, m => m.ToString());

        // The mutations reached past the prefix into both envelope parsers and the openers.
        Assert.True(counts.GetValueOrDefault("v1 parsed") > 1000, string.Join(", ", counts));
        Assert.True(counts.GetValueOrDefault("v2 parsed") > 1000, string.Join(", ", counts));
        Assert.True(counts.GetValueOrDefault("key ids read") > 100, string.Join(", ", counts));
    }

    [Fact]
    public void Mutated_encrypted_objects_parse_or_fail_with_etcd_value_exception_only()
    {
        var bodies = EtcdValueSamples()
            .Select(s => EtcdValuePrefix.Classify(s.Value))
            .Where(c => c.Kind == EtcdValueKind.KmsV2)
            .Select(c => c.Rest.ToArray())
            .ToArray();
        var parsed = 0;

        FixedSeedProperty.Check(ByteMutations.Of(bodies), mutant =>
        {
            try
            {
                var value = EncryptedObjectCodec.Parse(mutant.Bytes);
                EncryptedObjectRules.Validate(value);
                Assert.Equal(value.EncryptedData.ToArray(), EncryptedObjectCodec.Parse(EncryptedObjectCodec.Serialize(value)).EncryptedData.ToArray());
                parsed++;
            }
            catch (EtcdValueException)
            {
            }
        }, Cases, m => m.ToString());

        Assert.True(parsed > 1000, $"{parsed} parsed");
    }

    [Fact]
    public void Mutated_gcm_raw_and_gcm_hkdf_data_never_open()
    {
        var raw = Vector("gcm-raw-legacy");
        var hkdf = Vector("gcm-hkdf-legacy");
        var samples = new[] { Data(raw), Data(hkdf) };

        FixedSeedProperty.Check(ByteMutations.Of(samples), mutant =>
        {
            Assert.Throws<EtcdValueException>(() => AesGcmData.Open(Hex(raw, "key_hex"), mutant.Bytes, Hex(raw, "aad_hex")));
            Assert.Throws<EtcdValueException>(() => AesGcmHkdfData.Open(Hex(hkdf, "seed_hex"), mutant.Bytes, Hex(hkdf, "aad_hex")));
        }, Cases, m => m.ToString());
    }

    private static void OpenV1(KmsV1Value value, IEnumerable<KubeValueSample> samples, Action<string> count)
    {
        count("v1 parsed");
        foreach (var sample in samples.Where(s => EtcdValuePrefix.Classify(s.Value).Kind == EtcdValueKind.KmsV1))
        {
            try
            {
                var opened = KmsV1Envelope.Open(value, sample.DekSource, sample.Aad);
                if (opened.Cipher == KmsV1PayloadCipher.AesCbc)
                {
                    // kube-apiserver's legacy v1 payload is unauthenticated CBC: a mutant may "open" to garbage there, never through GCM.
                    count("v1 opened as legacy CBC");
                    continue;
                }

                Assert.Equal(sample.Plaintext, opened.Plaintext);
                count("v1 opened unchanged");
            }
            catch (EtcdValueException)
            {
            }
        }
    }

    private static void OpenV2(KmsV2Value value, IEnumerable<KubeValueSample> samples, Action<string> count)
    {
        count("v2 parsed");
        foreach (var sample in samples.Where(s => EtcdValuePrefix.Classify(s.Value).Kind == EtcdValueKind.KmsV2))
        {
            try
            {
                Assert.Equal(sample.Plaintext, KmsV2Envelope.Open(value.Object, sample.DekSource, sample.Aad));
                count("v2 opened unchanged");
            }
            catch (EtcdValueException)
            {
            }
        }
    }

    /// <summary>The upstream vectors (mock plugin DEKs) and one v1 and one v2 value whose DEK a real plugin ciphertext wraps.</summary>
    private static List<KubeValueSample> EtcdValueSamples()
    {
        var samples = new List<KubeValueSample>();
        foreach (var id in new[] { "kmsv1-ibm-constructed", "kmsv2-aes-gcm-key", "kmsv2-hkdf-seed" })
        {
            var v = Vector(id);
            var dekSource = Hex(v, v.TryGetProperty("seed_hex", out _) ? "seed_hex" : "dek_hex");
            var plaintext = v.TryGetProperty("plaintext_hex", out _) ? Hex(v, "plaintext_hex") : Ascii(v, "plaintext_ascii");
            samples.Add(new KubeValueSample(Data(v), dekSource, Hex(v, "aad_hex"), plaintext));
        }

        using var provider = KeystoreRootKeyProvider.CreateDevelopment();
        using var encryptor = new EnvelopeEncryptor(provider, new EnvelopeOptions(), TimeProvider.System);
        var dek = RandomNumberGenerator.GetBytes(32);
        var seed = RandomNumberGenerator.GetBytes(32);
        var etcdKey = "/registry/secrets/default/fuzz"u8.ToArray();
        var secret = RandomNumberGenerator.GetBytes(200);
        var wrappedDek = encryptor.EncryptAsync(dek, default).AsTask().GetAwaiter().GetResult().Ciphertext;
        var wrappedSeed = encryptor.EncryptAsync(seed, default).AsTask().GetAwaiter().GetResult().Ciphertext;
        samples.Add(new KubeValueSample(KmsV1Envelope.Seal("kms-plugin", wrappedDek, dek, secret, etcdKey), dek, etcdKey, secret));
        var annotations = new Dictionary<string, byte[]> { ["root-key.kms-plugin.example.io"] = "kek-1"u8.ToArray() };
        samples.Add(new KubeValueSample(
            KmsV2Envelope.Seal("kms-plugin", EncryptedDekSourceType.HkdfSha256XNonceAesGcmSeed, seed, "kek-1@1", wrappedSeed, annotations, secret, etcdKey),
            seed, etcdKey, secret));
        return samples;
    }
}
