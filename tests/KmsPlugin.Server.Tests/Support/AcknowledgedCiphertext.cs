using Google.Protobuf;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// A ciphertext the plugin answered OK for, with the plaintext it must give back for ever. KMS v2
/// ones carry the key_id Encrypt returned, as kube-apiserver stores it beside the ciphertext.
/// </summary>
internal sealed record AcknowledgedCiphertext(byte[] Plaintext, byte[] Ciphertext, string? KeyId)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    public static async Task<AcknowledgedCiphertext> EncryptAsync(PluginProcess plugin, bool v2, byte[] plaintext)
    {
        var deadline = DateTime.UtcNow + CallTimeout;
        if (v2)
        {
            var response = await plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(plaintext), Uid = Guid.NewGuid().ToString() }, deadline: deadline);
            return new AcknowledgedCiphertext(plaintext, response.Ciphertext.ToByteArray(), response.KeyId);
        }

        var encrypted = await plugin.V1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plaintext) }, deadline: deadline);
        return new AcknowledgedCiphertext(plaintext, encrypted.Cipher.ToByteArray(), null);
    }

    /// <summary>Decrypts every one, a few at a time, and requires each plaintext back byte for byte.</summary>
    public static async Task AssertAllDecryptAsync(PluginProcess plugin, IReadOnlyList<AcknowledgedCiphertext> acknowledged)
    {
        await Parallel.ForEachAsync(acknowledged, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (item, _) =>
        {
            var plaintext = await item.DecryptAsync(plugin);
            Assert.True(plaintext.AsSpan().SequenceEqual(item.Plaintext), $"a ciphertext acknowledged earlier decrypted to other bytes (key_id {item.KeyId ?? "v1"})");
        });
    }

    public async Task<byte[]> DecryptAsync(PluginProcess plugin)
    {
        var deadline = DateTime.UtcNow + CallTimeout;
        if (KeyId is not null)
        {
            var request = new V2.DecryptRequest { Ciphertext = ByteString.CopyFrom(Ciphertext), KeyId = KeyId, Uid = Guid.NewGuid().ToString() };
            return (await plugin.V2.DecryptAsync(request, deadline: deadline)).Plaintext.ToByteArray();
        }

        var decrypted = await plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(Ciphertext) }, deadline: deadline);
        return decrypted.Plain.ToByteArray();
    }
}
