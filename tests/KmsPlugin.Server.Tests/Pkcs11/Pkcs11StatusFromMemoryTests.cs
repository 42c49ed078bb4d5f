using System.Diagnostics;
using System.Security.Cryptography;
using KmsPlugin.RootKeys.Pkcs11;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using KmsPlugin.Server.Tests.Support;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Pkcs11;

/// <summary>
/// KMS v2 Status is polled on every kube-apiserver /healthz: it must answer from memory while the
/// HSM hangs, not wait for the PKCS#11 call timeout.
/// </summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11StatusFromMemoryTests
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task With_every_token_call_hanging_status_answers_far_within_the_call_timeout()
    {
        _ = SoftHsm.ConfigPath;
        var label = "hung-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        using var release = new ManualResetEventSlim(false);
        var hang = false;
        var options = new Pkcs11ProviderOptions
        {
            ModulePath = SoftHsm.ModulePath,
            TokenLabel = label,
            Pin = "1234"u8.ToArray(),
            PrimaryKeyLabel = "root",
            CallTimeout = CallTimeout,
            BeforeCall = () =>
            {
                if (Volatile.Read(ref hang))
                {
                    release.Wait(TimeSpan.FromSeconds(60));
                }
            },
        };

        // Started before its token exists, so the provider has never reached it; the probe is kept
        // quiet so that only Status could try to reconnect.
        using var provider = Pkcs11RootKeyProvider.Open(options);
        Assert.NotNull(provider.Failure);
        await using var plugin = await RunningPlugin.StartAsync(provider, o => o with { HealthProbeIntervalWhenUnhealthy = TimeSpan.FromMinutes(10) });
        try
        {
            SoftHsm.Util("--init-token", "--free", "--label", label, "--pin", "1234", "--so-pin", "5678");
            using (var admin = Pkcs11TokenAdmin.Open(SoftHsm.ModulePath, label, null, "1234"u8.ToArray()))
            {
                admin.GenerateKey("root", primary: true);
            }

            Volatile.Write(ref hang, true);
            var slowest = TimeSpan.Zero;
            var window = Stopwatch.StartNew();
            while (window.Elapsed < TimeSpan.FromSeconds(3))
            {
                var clock = Stopwatch.StartNew();
                var status = await plugin.V2.StatusAsync(new V2.StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
                slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
                Assert.NotEqual("ok", status.Healthz);
                Assert.False(string.IsNullOrEmpty(status.KeyId));
                await Task.Delay(200);
            }

            Assert.True(slowest < TimeSpan.FromSeconds(2), $"Status took {slowest} with the token hung (call timeout {CallTimeout})");
        }
        finally
        {
            Volatile.Write(ref hang, false);
            release.Set();
        }
    }
}
