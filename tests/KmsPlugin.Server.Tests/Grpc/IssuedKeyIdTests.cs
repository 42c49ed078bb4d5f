using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V2;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.Tests.Support;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Server.Tests.Grpc;

/// <summary>
/// KMS v2 Decrypt accepts exactly the key_ids the plugin issued for the ciphertext's root key (its
/// promotion history) and refuses every other one with InvalidArgument. An outside fuzzer had 31
/// of 20,000 mutated key_ids accepted, e.g. with the generation digit changed.
/// </summary>
public sealed class IssuedKeyIdTests : IAsyncLifetime
{
    private const string Alphabet = "0123456789@-ak~ ";
    private static readonly byte[] Passphrase = "issued key id test passphrase"u8.ToArray();
    private static readonly KeystoreOptions WeakKdf = new() { Kdf = new KeystoreKdfParameters(1024, 1, 1), AllowWeakKdfForTests = true };
    private readonly TempDirectory _dir = new();
    private KeystoreRootKeyProvider _provider = null!;
    private RunningPlugin _plugin = null!;

    private string KeystorePath => _dir.File("keystore.json");

    public async Task InitializeAsync()
    {
        using (var keystore = KeystoreFile.Create(KeystorePath, Passphrase, WeakKdf))
        {
            _provider = new KeystoreRootKeyProvider(keystore);
        }

        _plugin = await RunningPlugin.StartAsync(_provider);
    }

    public async Task DisposeAsync()
    {
        await _plugin.DisposeAsync();
        _provider.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task Over_a_promotion_history_A_B_A_every_mutated_key_id_that_was_not_issued_is_refused()
    {
        var underA1 = await EncryptAsync();
        var rootA = underA1.KeyId[..underA1.KeyId.IndexOf('@')];
        var rootB = Change(k => k.Promote(k.AddKey().Id).Id);
        var underB2 = await EncryptAsync();
        Change(k => k.Promote(rootA).Id);
        var underA3 = await EncryptAsync();
        Assert.Equal(($"{rootA}@1", $"{rootB}@2", $"{rootA}@3"), (underA1.KeyId, underB2.KeyId, underA3.KeyId));
        var issued = new HashSet<string>(StringComparer.Ordinal) { underA1.KeyId, underB2.KeyId, underA3.KeyId };

        var refused = 0;
        foreach (var sample in new[] { underA1, underB2, underA3 })
        {
            var root = sample.KeyId[..sample.KeyId.IndexOf('@')];
            foreach (var candidate in Mutations(sample.KeyId).Append($"{root}@0{sample.KeyId[^1]}").Append($"{root}@4").Append($"{root}@9223372036854775807"))
            {
                var shouldDecrypt = issued.Contains(candidate) && candidate.StartsWith(root + "@", StringComparison.Ordinal);
                var status = await DecryptStatusAsync(sample, candidate);
                Assert.True(shouldDecrypt ? status == StatusCode.OK : status == StatusCode.InvalidArgument,
                    $"key_id \"{candidate}\" for a ciphertext issued as \"{sample.KeyId}\": {status}");
                refused += shouldDecrypt ? 0 : 1;
            }
        }

        Assert.True(refused > 1000, $"only {refused} mutations were tried");
        Assert.Equal(StatusCode.InvalidArgument, await DecryptStatusAsync(underA1, $"{rootA}@2"));
        Assert.Equal(StatusCode.InvalidArgument, await DecryptStatusAsync(underB2, $"{rootB}@1"));
        Assert.Equal(StatusCode.InvalidArgument, await DecryptStatusAsync(underB2, $"{rootB}@3"));
        Assert.Equal(StatusCode.OK, await DecryptStatusAsync(underA1, $"{rootA}@3"));
    }

    [Fact]
    public async Task The_refusal_names_the_key_id_and_says_it_was_not_issued()
    {
        var sample = await EncryptAsync();
        var forged = sample.KeyId[..^1] + "7";
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _plugin.V2.DecryptAsync(new DecryptRequest { Ciphertext = sample.Ciphertext, KeyId = forged, Uid = "u" }));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains($"key_id \"{forged}\" was not issued by kms-plugin", ex.Status.Detail);
    }

    /// <summary>Every one-character replacement, deletion and insertion over a small alphabet.</summary>
    private static IEnumerable<string> Mutations(string keyId)
    {
        for (var i = 0; i < keyId.Length; i++)
        {
            yield return keyId.Remove(i, 1);
            foreach (var c in Alphabet)
            {
                yield return keyId[..i] + c + keyId[(i + 1)..];
                yield return keyId.Insert(i, c.ToString());
            }
        }

        foreach (var c in Alphabet)
        {
            yield return keyId + c;
        }
    }

    private async Task<StatusCode> DecryptStatusAsync(EncryptResponse sample, string keyId)
    {
        try
        {
            await _plugin.V2.DecryptAsync(new DecryptRequest { Ciphertext = sample.Ciphertext, KeyId = keyId, Uid = "u" });
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    private string Change(Func<KeystoreFile, string> change)
    {
        using var keystore = KeystoreFile.Load(KeystorePath, Passphrase, WeakKdf);
        var result = change(keystore);
        _provider.Reload(keystore);
        return result;
    }

    private async Task<EncryptResponse> EncryptAsync() =>
        await _plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(new byte[32]), Uid = Guid.NewGuid().ToString() });
}
