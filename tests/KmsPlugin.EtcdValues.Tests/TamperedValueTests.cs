using System.Text.Json;
using static KmsPlugin.EtcdValues.Tests.KubeEnvelopeVectors;

namespace KmsPlugin.EtcdValues.Tests;

/// <summary>
/// Every truncation and every single-bit flip of each KMS vector value, read the way etcd verify
/// reads (parse, then open with the DEK source the mock plugin gave for the original): the result is
/// the original plaintext or <see cref="EtcdValueException"/>, never another exception.
/// </summary>
public sealed class TamperedValueTests
{
    public static TheoryData<string> KmsValues => IdsOfFormat("kms-v1", "kms-v2");

    /// <summary>
    /// A protobuf cut exactly between two fields is still a valid message: cutting off the
    /// annotations (not authenticated, not needed to read) leaves a value kube-apiserver reads too.
    /// Every other cut is rejected.
    /// </summary>
    [Theory]
    [MemberData(nameof(KmsValues))]
    public void Every_truncation_is_rejected_unless_it_drops_whole_unauthenticated_fields(string id)
    {
        var v = Vector(id);
        var data = Data(v);
        var fieldBoundaries = FieldBoundaries(v);
        for (var length = 0; length < data.Length; length++)
        {
            switch (Read(v, data[..length]))
            {
                case EtcdValueException:
                    break;
                case byte[] read when fieldBoundaries.Contains(length):
                    Assert.Equal(Hex(v, "plaintext_hex"), read);
                    break;
                case var other:
                    Assert.Fail($"truncated to {length} bytes: {Describe(other)}");
                    break;
            }
        }
    }

    [Theory]
    [MemberData(nameof(KmsValues))]
    public void Every_bit_flip_is_rejected_or_reads_the_original_plaintext(string id)
    {
        var v = Vector(id);
        var data = Data(v);
        var plaintext = Hex(v, "plaintext_hex");
        var rejected = 0;
        for (var bit = 0; bit < data.Length * 8; bit++)
        {
            var flipped = (byte[])data.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            switch (Read(v, flipped))
            {
                case EtcdValueException:
                    rejected++;
                    break;
                case byte[] read:
                    // Only bytes outside the authenticated payload (provider name, keyID, annotations,
                    // the encrypted DEK itself) can change without the read failing.
                    Assert.Equal(plaintext, read);
                    break;
                case var other:
                    Assert.Fail($"bit {bit}: {Describe(other)}");
                    break;
            }
        }

        Assert.True(rejected > data.Length, $"only {rejected} of {data.Length * 8} flips were rejected");
    }

    [Theory]
    [MemberData(nameof(KmsValues))]
    public void Flips_inside_the_sealed_payload_always_fail_authentication(string id)
    {
        var v = Vector(id);
        var data = Data(v);
        var (start, end) = PayloadSpan(v, data);
        for (var i = start; i < end; i++)
        {
            var flipped = (byte[])data.Clone();
            flipped[i] ^= 0x01;
            var outcome = Read(v, flipped);
            var e = Assert.IsType<EtcdValueException>(outcome);
            Assert.Equal(EtcdValueError.AuthenticationFailed, e.Error);
        }
    }

    private static HashSet<int> FieldBoundaries(JsonElement v) =>
        v.TryGetProperty("encrypted_object", out var o)
            ? o.GetProperty("wire_spans").EnumerateArray().Select(s => s.GetProperty("tag_offset").GetInt32()).ToHashSet()
            : [];

    private static (int Start, int End) PayloadSpan(JsonElement v, byte[] data)
    {
        if (v.GetProperty("format").GetString() == "kms-v1")
        {
            var payload = v.GetProperty("offsets").GetProperty("payload");
            return (payload[0].GetInt32(), payload[1].GetInt32());
        }

        var field1 = v.GetProperty("encrypted_object").GetProperty("wire_spans").EnumerateArray().Single(s => s.GetProperty("field").GetInt32() == 1);
        var offset = field1.GetProperty("value_offset").GetInt32();
        return (offset, offset + field1.GetProperty("value_len").GetInt32());
    }

    /// <summary>The plaintext, or the exception the read threw.</summary>
    private static object Read(JsonElement v, byte[] value)
    {
        var etcdKey = Hex(v, "aad_hex");
        try
        {
            if (v.GetProperty("format").GetString() == "kms-v1")
            {
                return KmsV1Envelope.Open(KmsV1Envelope.Parse(value), Hex(v, "dek_hex"), etcdKey).Plaintext;
            }

            var parsed = KmsV2Envelope.Parse(value);
            // The vector's own DEK source, even when a flip changed the type field.
            var dekSource = Hex(v, v.TryGetProperty("dek_hex", out _) ? "dek_hex" : "seed_hex");
            return KmsV2Envelope.Open(parsed.Object, dekSource, etcdKey);
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static string Describe(object outcome) => outcome switch
    {
        Exception e => $"{e.GetType().Name}: {e.Message}",
        byte[] b => $"read {b.Length} bytes",
        _ => outcome.ToString() ?? "null",
    };
}
