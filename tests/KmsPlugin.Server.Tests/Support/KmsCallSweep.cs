using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.RootKeys;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// Every KMS call kube-apiserver makes, and the bad ones it could send, against a plugin under a
/// <see cref="SecretLeakScanner"/>: the plaintexts become secrets, every error status and trailer a text.
/// </summary>
internal static class KmsCallSweep
{
    public static async Task<List<AcknowledgedCiphertext>> RunAsync(PluginProcess plugin, SecretLeakScanner scanner)
    {
        var acknowledged = new List<AcknowledgedCiphertext>();
        foreach (var v2 in new[] { false, true })
        {
            var printable = Encoding.ASCII.GetBytes($"canary-plaintext-{(v2 ? "v2" : "v1")}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");
            var binary = RandomNumberGenerator.GetBytes(32);
            foreach (var plaintext in new[] { printable, binary })
            {
                scanner.AddSecret($"{(v2 ? "v2" : "v1")} plaintext", plaintext);
                var item = await AcknowledgedCiphertext.EncryptAsync(plugin, v2, plaintext);
                Assert.Equal(plaintext, await item.DecryptAsync(plugin));
                acknowledged.Add(item);
            }
        }

        await plugin.V1.VersionAsync(new V1.VersionRequest { Version = "v1beta1" });
        await plugin.V2.StatusAsync(new V2.StatusRequest());

        var v1Cipher = acknowledged.First(a => a.KeyId is null).Ciphertext;
        var v2Item = acknowledged.First(a => a.KeyId is not null);
        var tampered = v1Cipher.ToArray();
        tampered[^1] ^= 1;
        var foreignKeyId = $"kek-20200101-00000000@{long.MaxValue}";
        var rejected = new List<Func<Task>>
        {
            () => plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(tampered) }).ResponseAsync,
            () => plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(v1Cipher.AsSpan(0, v1Cipher.Length / 2)) }).ResponseAsync,
            () => plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(80)) }).ResponseAsync,
            () => plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = ByteString.CopyFrom(v2Item.Ciphertext), KeyId = foreignKeyId, Uid = "bad-key-id" }).ResponseAsync,
            () => plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = ByteString.CopyFrom(tampered), KeyId = v2Item.KeyId, Uid = "tampered" }).ResponseAsync,
            () => plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = ByteString.Empty, KeyId = v2Item.KeyId, Uid = "empty" }).ResponseAsync,
            () => plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(new byte[4096]), Uid = "too-big" }).ResponseAsync,
        };
        foreach (var call in rejected)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.NotEqual(StatusCode.OK, error.StatusCode);
            scanner.AddText($"gRPC error {error.StatusCode}", $"{error.Status.Detail} {error.Message} {error.Status.DebugException}");
            foreach (var trailer in error.Trailers)
            {
                if (trailer.IsBinary)
                {
                    scanner.AddBytes($"gRPC trailer {trailer.Key}", trailer.ValueBytes);
                }
                else
                {
                    scanner.AddText($"gRPC trailer {trailer.Key}", trailer.Value);
                }
            }
        }

        return acknowledged;
    }

    /// <summary>Unwraps the plugin data key inside each ciphertext, as the plugin did, so its bytes become secrets too.</summary>
    public static async Task AddDataKeysAsync(IRootKeyProvider rootKeys, IEnumerable<AcknowledgedCiphertext> acknowledged, SecretLeakScanner scanner)
    {
        foreach (var item in acknowledged)
        {
            var (keyId, wrapped, context) = Split(item.Ciphertext);
            var dataKey = new byte[64];
            var length = await rootKeys.GetForDecrypt(keyId).UnwrapAsync(wrapped, context, dataKey, CancellationToken.None);
            Assert.Equal(32, length);
            scanner.AddSecret("plugin data key", dataKey.AsSpan(0, length));
        }
    }

    private static (string KeyId, byte[] Wrapped, byte[] Context) Split(byte[] ciphertext)
    {
        var parts = EnvelopeFormat.Parse(ciphertext);
        return (Encoding.UTF8.GetString(parts.KeyId), parts.WrappedKey.ToArray(), parts.WrapContext.ToArray());
    }
}
