using System.Diagnostics;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.RootKeys.Faults;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.RootKeys.Faults;

/// <summary>
/// Root-key faults under the real server and a real gRPC client: callers get Unavailable within
/// kube-apiserver's 3 s, the paths that need no root key keep working, health says so, and
/// clearing the fault heals everything without a restart.
/// </summary>
public sealed class FaultInjectionTests
{
    private static readonly TimeSpan KubeApiserverTimeout = TimeSpan.FromSeconds(3);

    /// <summary>For calls that must succeed: generous, since this machine is shared and noisy.</summary>
    private static readonly TimeSpan PatientTimeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("unwrap=hang")]
    [InlineData("unwrap=fail")]
    [InlineData("unwrap=slow:10s")]
    [InlineData("all=hang")]
    public async Task A_broken_unwrap_fails_cold_decrypts_in_time_while_cached_paths_serve_and_all_recovers(string faultText)
    {
        var rootKeys = TestKeys.Development();
        var faulty = new FaultInjectingRootKeyProvider(rootKeys);
        await using var plugin = await StartAsync(faulty);
        var (warmPlain, warmCipher) = await EncryptAsync(plugin);
        var (coldPlain, coldCipher) = await EncryptElsewhereAsync(rootKeys);

        faulty.Faults = RootKeyFaults.Parse(faultText);

        var failure = await TimedFailureAsync(() => DecryptAsync(plugin, coldCipher));
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        var v2Failure = await TimedFailureAsync(() => plugin.V2.DecryptAsync(
            new Protocol.V2.DecryptRequest { Ciphertext = coldCipher, KeyId = rootKeys.Primary.KeyId, Uid = "cold" }, deadline: DateTime.UtcNow + KubeApiserverTimeout).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, v2Failure.StatusCode);

        // What needs no root-key call keeps working: sealing with the current DEK, opening with a cached one.
        var (plain, cipher) = await EncryptAsync(plugin);
        Assert.Equal(plain, await DecryptAsync(plugin, cipher));
        Assert.Equal(warmPlain, await DecryptAsync(plugin, warmCipher));
        await WaitForHealthAsync(plugin, healthy: false);

        faulty.Faults = RootKeyFaults.None;

        Assert.Equal(coldPlain, await DecryptAsync(plugin, coldCipher));
        await WaitForHealthAsync(plugin, healthy: true);
    }

    [Fact]
    public async Task A_failing_wrap_keeps_the_current_DEK_sealing_refuses_a_new_one_and_recovers()
    {
        var faulty = new FaultInjectingRootKeyProvider(TestKeys.Development());
        await using var plugin = await StartAsync(faulty, maxUses: 4);
        await EncryptAsync(plugin);

        faulty.Faults = RootKeyFaults.Parse("wrap=fail");

        // The DEK in use has uses left: those Encrypts never touch the root key.
        var (plain, cipher) = await EncryptAsync(plugin);
        Assert.Equal(plain, await DecryptAsync(plugin, cipher));
        RpcException? refused = null;
        for (var i = 0; i < 4 && refused is null; i++)
        {
            refused = await Record.ExceptionAsync(() => EncryptAsync(plugin)) as RpcException;
        }

        Assert.NotNull(refused);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        await WaitForHealthAsync(plugin, healthy: false);

        faulty.Faults = RootKeyFaults.None;
        var (after, afterCipher) = await EncryptAsync(plugin);
        Assert.Equal(after, await DecryptAsync(plugin, afterCipher));
        await WaitForHealthAsync(plugin, healthy: true);
    }

    [Fact]
    public async Task A_slow_root_key_within_the_timeout_only_delays_cold_decrypts()
    {
        var rootKeys = TestKeys.Development();
        var faulty = new FaultInjectingRootKeyProvider(rootKeys);
        await using var plugin = await StartAsync(faulty, quietProbe: true);
        var (coldPlain, coldCipher) = await EncryptElsewhereAsync(rootKeys);
        var before = faulty.UnwrapCalls;

        faulty.Faults = RootKeyFaults.Parse("unwrap=slow:300ms");
        var watch = Stopwatch.StartNew();
        Assert.Equal(coldPlain, await DecryptAsync(plugin, coldCipher));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(300), $"took {watch.Elapsed}");
        Assert.Equal(1, faulty.UnwrapCalls - before);
        Assert.Equal(0, faulty.InjectedFailures);
    }

    [Fact]
    public async Task Every_kth_unwrap_fails_and_the_others_serve()
    {
        var rootKeys = TestKeys.Development();
        var faulty = new FaultInjectingRootKeyProvider(rootKeys);
        await using var plugin = await StartAsync(faulty, quietProbe: true);
        var ciphers = new List<(byte[] Plain, ByteString Cipher)>();
        for (var i = 0; i < 6; i++)
        {
            ciphers.Add(await EncryptElsewhereAsync(rootKeys));
        }

        var before = faulty.UnwrapCalls;
        faulty.Faults = RootKeyFaults.Parse("unwrap=fail-every:3");
        var outcomes = new List<StatusCode>();
        foreach (var (plain, cipher) in ciphers)
        {
            try
            {
                Assert.Equal(plain, await DecryptAsync(plugin, cipher));
                outcomes.Add(StatusCode.OK);
            }
            catch (RpcException ex)
            {
                outcomes.Add(ex.StatusCode);
            }
        }

        // Calls are numbered from the plugin's start (its start-up health check unwraps once).
        var expected = Enumerable.Range(1, 6).Select(i => (before + i) % 3 == 0 ? StatusCode.Unavailable : StatusCode.OK);
        Assert.Equal(expected, outcomes);
        Assert.Equal(2, faulty.InjectedFailures);
    }

    /// <param name="quietProbe">Leave the background health probe at its 30 s interval, so only the test's calls reach the root key.</param>
    private static Task<RunningPlugin> StartAsync(FaultInjectingRootKeyProvider provider, long maxUses = 1_000_000, bool quietProbe = false) =>
        RunningPlugin.StartAsync(provider, o => o with
        {
            HealthEndpoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            HealthProbeInterval = quietProbe ? o.HealthProbeInterval : TimeSpan.FromMilliseconds(200),
            HealthProbeIntervalWhenUnhealthy = TimeSpan.FromMilliseconds(100),
            HealthProbeTimeout = TimeSpan.FromSeconds(1),
            Envelope = o.Envelope with { Rotation = o.Envelope.Rotation with { MaxUses = maxUses } },
        });

    /// <summary>A ciphertext under a DEK this plugin never saw, as another control-plane node writes it.</summary>
    private static async Task<(byte[] Plain, ByteString Cipher)> EncryptElsewhereAsync(IRootKeyProvider rootKeys)
    {
        using var otherNode = new EnvelopeEncryptor(rootKeys, new EnvelopeOptions(), TimeProvider.System);
        var plain = RandomNumberGenerator.GetBytes(32);
        var sealedEnvelope = await otherNode.EncryptAsync(plain, default);
        return (plain, ByteString.CopyFrom(sealedEnvelope.Ciphertext));
    }

    private static async Task<(byte[] Plain, ByteString Cipher)> EncryptAsync(RunningPlugin plugin)
    {
        var plain = RandomNumberGenerator.GetBytes(32);
        var response = await plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) }, deadline: Deadline());
        return (plain, response.Cipher);
    }

    private static async Task<byte[]> DecryptAsync(RunningPlugin plugin, ByteString cipher) =>
        (await plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = cipher }, deadline: Deadline())).Plain.ToByteArray();

    private static DateTime Deadline() => DateTime.UtcNow + PatientTimeout;

    /// <summary>The plugin's own answer (its root-key timeout is 2 s), not the client giving up at its deadline.</summary>
    private static async Task<RpcException> TimedFailureAsync(Func<Task> call)
    {
        var watch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(watch.Elapsed < KubeApiserverTimeout, $"answered after {watch.Elapsed}: {failure.Status}");
        return failure;
    }

    /// <summary>Waits until v2 Status and the HTTP /healthz both say healthy (or both say not).</summary>
    private static async Task WaitForHealthAsync(RunningPlugin plugin, bool healthy)
    {
        using var http = new HttpClient { BaseAddress = plugin.Host.HealthAddress };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var status = await plugin.V2.StatusAsync(new Protocol.V2.StatusRequest());
            using var healthz = await http.GetAsync("/healthz");
            var body = await healthz.Content.ReadAsStringAsync();
            if ((status.Healthz == "ok") == healthy && healthz.IsSuccessStatusCode == healthy)
            {
                // The health listener gives a fixed phrase; the detail is for the socket and the log only.
                Assert.Equal(healthy ? "ok\n" : "unhealthy: ", healthy ? body : body[..11]);
                Assert.True(healthy || !body.Contains(status.Healthz, StringComparison.Ordinal), body);
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Status says {status.Healthz}, /healthz {(int)healthz.StatusCode} {body}");
            await Task.Delay(50);
        }
    }
}
