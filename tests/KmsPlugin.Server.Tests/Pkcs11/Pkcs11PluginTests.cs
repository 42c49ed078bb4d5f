using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Core.Envelope;
using KmsPlugin.RootKeys.Pkcs11;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using KmsPlugin.Server.Tests.Support;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Pkcs11;

/// <summary>The server in process with root keys in a SoftHSM token, over the real socket.</summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11PluginTests
{
    [Fact]
    public async Task V1_and_v2_round_trip_with_a_softhsm_root_key()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "root");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("root"));
        await using var plugin = await RunningPlugin.StartAsync(provider);

        var status = await plugin.V2.StatusAsync(new V2.StatusRequest());
        Assert.Equal("ok", status.Healthz);
        Assert.Equal("p11-root@1", status.KeyId);

        var plain = RandomNumberGenerator.GetBytes(32);
        var v2 = await plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(plain), Uid = "u1" });
        Assert.Equal("p11-root@1", v2.KeyId);
        Assert.Equal("p11-root", EnvelopeEncryptor.ReadRootKeyId(v2.Ciphertext.Span));
        var back = await plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = v2.Ciphertext, KeyId = v2.KeyId, Uid = "u2" });
        Assert.Equal(plain, back.Plaintext.ToByteArray());

        var v1 = await plugin.V1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) });
        var v1Back = await plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = v1.Cipher });
        Assert.Equal(plain, v1Back.Plain.ToByteArray());
    }

    [Fact]
    public async Task The_root_key_service_lists_the_token_keys_with_check_values_computed_in_the_token()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "root", "old");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("root", "old"));
        await using var plugin = await RunningPlugin.StartAsync(provider);

        var listing = await new Protocol.Plugin.V1.RootKeyService.RootKeyServiceClient(plugin.Channel).ListRootKeysAsync(new Protocol.Plugin.V1.ListRootKeysRequest());

        Assert.Equal("pkcs11", listing.Provider);
        Assert.Equal(
            provider.DescribeKeys().Select(k => (k.Id, k.CheckValue, k.Generation ?? 0)),
            listing.RootKeys.Select(k => (k.Id, k.KeyCheckValue, k.Generation)));
        Assert.Equal([Protocol.Plugin.V1.RootKeyRole.Primary, Protocol.Plugin.V1.RootKeyRole.DecryptOnly], listing.RootKeys.Select(k => k.Role));
        Assert.All(listing.RootKeys, k => Assert.Null(k.ExpiresAt));
    }

    [Fact]
    public async Task Sixteen_callers_times_2000_decrypts_that_all_miss_the_data_key_cache()
    {
        const int Callers = 16;
        const int PerCaller = 2000;
        var token = SoftHsm.CreateToken().WithKeys(true, "root");
        var plain = RandomNumberGenerator.GetBytes(32);
        var ciphertexts = new ByteString[Callers * PerCaller];

        // Every Encrypt makes (and wraps in the token) a new data key.
        using (var provider = Pkcs11RootKeyProvider.Open(token.Options("root")))
        await using (var writer = await RunningPlugin.StartAsync(provider, o => o with { Envelope = OneUsePerDataKey() }))
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, ciphertexts.Length), new ParallelOptions { MaxDegreeOfParallelism = Callers }, async (i, _) =>
            {
                ciphertexts[i] = (await writer.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(plain), Uid = "e" })).Ciphertext;
            });
        }

        Assert.Equal(ciphertexts.Length, ciphertexts.Select(c => Convert.ToBase64String(c.Span[..80])).Distinct().Count());

        // A fresh instance has an empty cache: every Decrypt unwraps through the session pool.
        using var reader = Pkcs11RootKeyProvider.Open(token.Options("root"));
        await using var plugin = await RunningPlugin.StartAsync(reader);
        var errors = 0;
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            for (var n = 0; n < PerCaller; n++)
            {
                var response = await plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = ciphertexts[caller * PerCaller + n], KeyId = "p11-root@1", Uid = "d" });
                if (!response.Plaintext.Span.SequenceEqual(plain))
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })));
        Assert.Equal(0, errors);
        Assert.Equal("ok", (await plugin.V2.StatusAsync(new V2.StatusRequest())).Healthz);
    }

    [Fact]
    public async Task Started_without_its_token_the_plugin_is_unhealthy_and_unavailable_then_recovers_when_the_token_appears()
    {
        _ = SoftHsm.ConfigPath;
        var label = "late-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var options = new Pkcs11ProviderOptions { ModulePath = SoftHsm.ModulePath, TokenLabel = label, Pin = "1234"u8.ToArray(), PrimaryKeyLabel = "root" };
        using var provider = Pkcs11RootKeyProvider.Open(options);
        await using var plugin = await RunningPlugin.StartAsync(provider, o => o with { HealthProbeIntervalWhenUnhealthy = TimeSpan.FromMilliseconds(200) });

        var status = await plugin.V2.StatusAsync(new V2.StatusRequest());
        Assert.NotEqual("ok", status.Healthz);
        Assert.Contains($"PKCS#11 token \"{label}\" not found", status.Healthz);
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(new byte[32]), Uid = "u" }));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("not found", ex.Status.Detail);

        SoftHsm.Util("--init-token", "--free", "--label", label, "--pin", "1234", "--so-pin", "5678");
        using (var admin = Pkcs11TokenAdmin.Open(SoftHsm.ModulePath, label, null, "1234"u8.ToArray()))
        {
            admin.GenerateKey("root", primary: true);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((status = await plugin.V2.StatusAsync(new V2.StatusRequest())).Healthz != "ok" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal("ok", status.Healthz);
        Assert.Equal("p11-root@1", status.KeyId);
        var encrypted = await plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(new byte[32]), Uid = "u" });
        Assert.Equal("p11-root@1", encrypted.KeyId);
    }

    private static EnvelopeOptions OneUsePerDataKey() => new()
    {
        Rotation = new DataEncryptionKeyRotationPolicy { MaxUses = 1, MaxAge = DataEncryptionKeyRotationPolicy.Default.MaxAge },
    };
}
