using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using KmsPlugin.Server.Tests.Support;
using Xunit.Abstractions;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Hardening;

/// <summary>
/// 64 callers, KMS v1 and v2 mixed, against the executable for a minute while two promotions land
/// and the data key is replaced every 16 encryptions: every call must succeed and every
/// plaintext must come back exact, including ones sealed under earlier data keys and root keys.
/// </summary>
public sealed class ConcurrencyUnderRotationTests : IDisposable
{
    private const int Callers = 64;
    private const int DataKeyMaxUses = 16;
    private const int SharedPoolSize = 4096;

    private readonly KeystoreFiles _files = new("concurrency passphrase");
    private readonly ITestOutputHelper _output;

    public ConcurrencyUnderRotationTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Sixty_four_mixed_callers_through_two_promotions_and_hundreds_of_dek_rotations_see_no_error_and_exact_plaintexts()
    {
        var duration = TimeSpan.FromSeconds(TestSettings.Int("KMS_PLUGIN_CONCURRENCY_SECONDS", 60));
        _files.InitAtMinimumCost();
        var second = await AddKeyAsync();
        var third = await AddKeyAsync();
        var port = LoopbackPorts.Free();
        await using var plugin = await PluginProcess.StartAsync(_files.Directory.File("kms.sock"), null,
            [.. _files.Args, "--dek-max-uses", DataKeyMaxUses.ToString(), "--health-address", $"127.0.0.1:{port}"]);

        var pool = new AcknowledgedCiphertext?[SharedPoolSize];
        var failures = new ConcurrentQueue<string>();
        var keyIds = new ConcurrentDictionary<string, byte>();
        long encrypts = 0, decrypts = 0;
        var watch = Stopwatch.StartNew();
        using var end = new CancellationTokenSource();

        async Task CallerAsync(int caller)
        {
            var random = new Random(caller);
            while (!end.IsCancellationRequested && failures.IsEmpty)
            {
                try
                {
                    var v2 = random.Next(2) == 0;
                    var sealedNow = await AcknowledgedCiphertext.EncryptAsync(plugin, v2, RandomNumberGenerator.GetBytes(random.Next(1, 257)));
                    Interlocked.Increment(ref encrypts);
                    if (sealedNow.KeyId is { } keyId)
                    {
                        keyIds.TryAdd(keyId, 0);
                    }

                    // Our own ciphertext, then one another caller sealed, maybe under an older data key or root key.
                    var earlier = Volatile.Read(ref pool[random.Next(SharedPoolSize)]);
                    Volatile.Write(ref pool[random.Next(SharedPoolSize)], sealedNow);
                    foreach (var item in earlier is null ? [sealedNow] : new[] { sealedNow, earlier })
                    {
                        var plaintext = await item.DecryptAsync(plugin);
                        Interlocked.Increment(ref decrypts);
                        if (!plaintext.AsSpan().SequenceEqual(item.Plaintext))
                        {
                            failures.Enqueue($"caller {caller}: a {(item.KeyId is null ? "v1" : "v2")} ciphertext decrypted to other bytes");
                        }
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue($"caller {caller} after {watch.Elapsed.TotalSeconds:0.0} s: {e.GetType().Name}: {e.Message}");
                }
            }
        }

        var callers = Enumerable.Range(0, Callers).Select(i => Task.Run(() => CallerAsync(i))).ToArray();
        await Task.Delay(duration / 3);
        await PromoteAsync(plugin, second);
        await Task.Delay(duration / 3);
        await PromoteAsync(plugin, third);

        // On a slow machine the promotions may take a while: keep calling for a moment under the last primary in any case.
        await Task.Delay(TimeSpan.FromSeconds(2));
        await Task.Delay(duration - watch.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
        await end.CancelAsync();
        await Task.WhenAll(callers);
        watch.Stop();

        Assert.True(failures.IsEmpty, $"{failures.Count} failures, first: {string.Join("\n", failures.Take(5))}\n{plugin.Log}");
        var metrics = await PrometheusText.ScrapeAsync(port);
        var rotations = PrometheusText.Value(metrics, "kms_plugin_dek_rotations_total");
        var requests = PrometheusText.Samples(metrics, "kms_plugin_requests_total");
        var notOk = requests.Where(r => !r.Key.Contains("outcome=\"OK\"", StringComparison.Ordinal) && r.Value > 0).ToList();
        _output.WriteLine(
            $"{Callers} callers for {watch.Elapsed.TotalSeconds:0} s: {encrypts} encrypts + {decrypts} decrypts " +
            $"({(encrypts + decrypts) / watch.Elapsed.TotalSeconds:0} calls/s), {rotations} data key rotations, v2 key_ids seen: {string.Join(", ", keyIds.Keys.Order())}");

        Assert.Empty(notOk);
        Assert.Equal(encrypts + decrypts, (long)requests.Where(r => r.Key.Contains("operation=\"Encrypt\"", StringComparison.Ordinal) || r.Key.Contains("operation=\"Decrypt\"", StringComparison.Ordinal)).Sum(r => r.Value));

        // A data key seals at most DataKeyMaxUses payloads, so the plugin made at least this many.
        Assert.True(rotations >= encrypts / DataKeyMaxUses, $"{rotations} data key rotations for {encrypts} encryptions at --dek-max-uses {DataKeyMaxUses}");
        Assert.Contains(keyIds.Keys, k => k.StartsWith(second + "@", StringComparison.Ordinal));
        Assert.Contains(keyIds.Keys, k => k.StartsWith(third + "@", StringComparison.Ordinal));
    }

    private async Task<string> AddKeyAsync()
    {
        var added = await _files.CliAsync("keystore", "add", "--json");
        return JsonDocument.Parse(added.Output).RootElement[0].GetProperty("id").GetString()!;
    }

    /// <summary>`keystore promote`, then wait until the running plugin reports the new primary.</summary>
    private async Task PromoteAsync(PluginProcess plugin, string id)
    {
        await _files.CliAsync("keystore", "promote", id);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await plugin.V2.StatusAsync(new V2.StatusRequest())).KeyId.StartsWith(id + "@", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the plugin never took up root key {id}:\n{plugin.Log}");
            await Task.Delay(100);
        }
    }
}
