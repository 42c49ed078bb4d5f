using System.Security.Cryptography;
using Google.Protobuf;
using KmsPlugin.Protocol.V2;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.Tests.Support;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Server.Tests.Grpc;

/// <summary>
/// key_id as kube-apiserver relies on it: stable while the primary stays, new on every promotion,
/// never reused (A→B→A reports a third id), and old data stays readable under its old key_id.
/// </summary>
public sealed class KeyIdRotationTests : IAsyncLifetime
{
    private static readonly byte[] Passphrase = "rotation test passphrase"u8.ToArray();
    private readonly TempDirectory _dir = new();
    private KeystoreRootKeyProvider _provider = null!;
    private RunningPlugin _plugin = null!;

    private string KeystorePath => _dir.File("keystore.json");

    public async Task InitializeAsync()
    {
        using (var keystore = KeystoreFile.Create(KeystorePath, Passphrase, TestKeystoreOptions))
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

    private static KeystoreOptions TestKeystoreOptions => new() { Kdf = new KeystoreKdfParameters(1024, 1, 1), AllowWeakKdfForTests = true };

    [Fact]
    public async Task Promotions_change_key_id_everywhere_at_once_and_old_data_stays_readable()
    {
        var first = await StatusKeyIdAsync();
        var plaintextA = RandomNumberGenerator.GetBytes(32);
        var underA = await EncryptAsync(plaintextA);
        Assert.Equal(first, underA.KeyId);
        Assert.Equal(first, await StatusKeyIdAsync());

        var rootA = first[..first.IndexOf('@')];
        var rootB = Change(k => k.Promote(k.AddKey().Id).Id);
        var second = await StatusKeyIdAsync();
        Assert.Equal($"{rootB}@2", second);
        var plaintextB = RandomNumberGenerator.GetBytes(32);
        var underB = await EncryptAsync(plaintextB);
        Assert.Equal(second, underB.KeyId);

        Change(k => k.Promote(rootA).Id);
        var third = await StatusKeyIdAsync();
        Assert.Equal($"{rootA}@3", third);
        Assert.Equal(third, (await EncryptAsync(new byte[32])).KeyId);
        Assert.Equal(3, new[] { first, second, third }.Distinct().Count());

        Assert.Equal(plaintextA, await DecryptAsync(underA));
        Assert.Equal(plaintextB, await DecryptAsync(underB));
    }

    [Fact]
    public async Task A_reload_that_promotes_nothing_keeps_key_id()
    {
        var before = await StatusKeyIdAsync();
        Change(k => k.AddKey().Id);
        Assert.Equal(before, await StatusKeyIdAsync());
        Assert.Equal(before, (await EncryptAsync(new byte[32])).KeyId);
    }

    [Fact]
    public async Task Promotions_under_load_never_fail_a_call_and_key_ids_follow_status()
    {
        var keyIdsBefore = await StatusKeyIdAsync();
        using var stop = new CancellationTokenSource();
        var results = new System.Collections.Concurrent.ConcurrentBag<(byte[] Plaintext, EncryptResponse Encrypted)>();
        var mismatches = new System.Collections.Concurrent.ConcurrentBag<string>();

        var callers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var before = await StatusKeyIdAsync();
                var plaintext = RandomNumberGenerator.GetBytes(32);
                var encrypted = await EncryptAsync(plaintext);
                var after = await StatusKeyIdAsync();
                if (encrypted.KeyId != before && encrypted.KeyId != after)
                {
                    mismatches.Add($"{before} / {encrypted.KeyId} / {after}");
                }

                Assert.Equal(plaintext, await DecryptAsync(encrypted));
                results.Add((plaintext, encrypted));
            }
        })).ToArray();

        // Each key must carry real traffic before the next promotion: wait for results, not for time.
        async Task WaitForTrafficUnder(string keyId)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (results.Count(r => r.Encrypted.KeyId == keyId) < 20 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }

        var promoted = new List<string>();
        await WaitForTrafficUnder(keyIdsBefore);
        for (var generation = 2; generation <= 3; generation++)
        {
            promoted.Add(Change(k => k.Promote(k.AddKey().Id).Id));
            await WaitForTrafficUnder($"{promoted[^1]}@{generation}");
        }

        stop.Cancel();
        await Task.WhenAll(callers);

        Assert.Empty(mismatches);
        var keyIds = results.Select(r => r.Encrypted.KeyId).Distinct().ToList();
        Assert.Equal(new[] { keyIdsBefore, $"{promoted[0]}@2", $"{promoted[1]}@3" }.Order(), keyIds.Order());
        foreach (var (plaintext, encrypted) in results)
        {
            Assert.Equal(plaintext, await DecryptAsync(encrypted));
        }
    }

    private string Change(Func<KeystoreFile, string> change)
    {
        using var keystore = KeystoreFile.Load(KeystorePath, Passphrase, TestKeystoreOptions);
        var result = change(keystore);
        _provider.Reload(keystore);
        return result;
    }

    private async Task<string> StatusKeyIdAsync() => (await _plugin.V2.StatusAsync(new StatusRequest())).KeyId;

    private async Task<EncryptResponse> EncryptAsync(byte[] plaintext) =>
        await _plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(plaintext), Uid = Guid.NewGuid().ToString() });

    private async Task<byte[]> DecryptAsync(EncryptResponse encrypted)
    {
        var request = new DecryptRequest { Ciphertext = encrypted.Ciphertext, KeyId = encrypted.KeyId, Uid = Guid.NewGuid().ToString() };
        request.Annotations.Add(encrypted.Annotations);
        return (await _plugin.V2.DecryptAsync(request)).Plaintext.ToByteArray();
    }
}
