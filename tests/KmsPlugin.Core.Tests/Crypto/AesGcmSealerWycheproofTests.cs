using System.Security.Cryptography;
using System.Text.Json;
using KmsPlugin.Core.Crypto;

namespace KmsPlugin.Core.Tests.Crypto;

public sealed class AesGcmSealerWycheproofTests
{
    // From ../shared/testdata/wycheproof/README.md: 197 of the 316 AES-GCM vectors use a 12-byte nonce.
    private const int ExpectedQualifyingVectors = 197;

    [Fact]
    public void Every_96_bit_nonce_128_bit_tag_vector_passes_through_the_sealer()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(RepositoryPaths.SharedTestData("wycheproof", "aes_gcm_test.json")));
        var root = document.RootElement;
        Assert.Equal("AES-GCM", root.GetProperty("algorithm").GetString());

        var qualifying = 0;
        var executed = 0;
        var failures = new List<string>();
        foreach (var group in root.GetProperty("testGroups").EnumerateArray())
        {
            if (group.GetProperty("ivSize").GetInt32() != 96 || group.GetProperty("tagSize").GetInt32() != 128)
            {
                continue;
            }

            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                qualifying++;
                var failure = Run(test);
                executed++;
                if (failure is not null)
                {
                    failures.Add($"tcId {test.GetProperty("tcId").GetInt32()}: {failure}");
                }
            }
        }

        Assert.True(qualifying > 0, "no AES-GCM vector with a 96-bit nonce and 128-bit tag found");
        Assert.Equal(ExpectedQualifyingVectors, qualifying);
        Assert.Equal(qualifying, executed);
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static string? Run(JsonElement test)
    {
        var key = Hex(test, "key");
        var iv = Hex(test, "iv");
        var aad = Hex(test, "aad");
        var msg = Hex(test, "msg");
        var ct = Hex(test, "ct");
        var tag = Hex(test, "tag");
        var result = test.GetProperty("result").GetString();

        using var aes = new AesGcm(key, AesGcmSealer.TagSize);
        var sealedMessage = Concat(iv, ct, tag);
        var opened = new byte[Math.Max(0, AesGcmSealer.PlaintextLength(sealedMessage.Length))];

        switch (result)
        {
            case "valid":
                var produced = new byte[AesGcmSealer.Overhead + msg.Length];
                AesGcmSealer.Seal(aes, iv, msg, aad, produced);
                if (!produced.AsSpan().SequenceEqual(sealedMessage))
                {
                    return "sealed output differs from ct|tag";
                }

                if (!AesGcmSealer.TryOpen(aes, sealedMessage, aad, opened))
                {
                    return "valid message rejected";
                }

                return opened.AsSpan().SequenceEqual(msg) ? null : "opened plaintext differs from msg";

            case "invalid":
                return AesGcmSealer.TryOpen(aes, sealedMessage, aad, opened) ? "invalid message accepted" : null;

            default:
                // None of the 96-bit vectors is "acceptable" today; if one appears, decide explicitly here.
                return $"unexpected result \"{result}\"";
        }
    }

    private static byte[] Hex(JsonElement test, string name) => Convert.FromHexString(test.GetProperty(name).GetString()!);

    private static byte[] Concat(params byte[][] parts)
    {
        var output = new byte[parts.Sum(p => p.Length)];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(output, offset);
            offset += part.Length;
        }

        return output;
    }
}
