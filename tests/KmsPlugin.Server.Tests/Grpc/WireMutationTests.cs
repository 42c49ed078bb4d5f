using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.Tests.Support;
using KmsPlugin.Tests.Shared.Properties;
using Xunit.Abstractions;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Grpc;

/// <summary>
/// 20,000 mutated ciphertexts, each sent through both v1 and v2 Decrypt to the real server on its
/// unix socket: every call is refused with InvalidArgument or FailedPrecondition (never OK, never
/// Internal or Unknown), and afterwards the server still round-trips, reports healthy and opens
/// every valid ciphertext.
/// </summary>
public sealed class WireMutationTests : IAsyncLifetime
{
    private const int Mutants = 20_000;
    private const int Callers = 8;

    private readonly ITestOutputHelper _output;
    private readonly KeystoreRootKeyProvider _provider;
    private readonly KeystoreFile _keystore = KeystoreFile.CreateInMemory();
    private readonly KeystoreKeyInfo _second;
    private RunningPlugin _plugin = null!;

    public WireMutationTests(ITestOutputHelper output)
    {
        _output = output;
        _second = _keystore.AddKey();
        _provider = new KeystoreRootKeyProvider(_keystore);
    }

    public async Task InitializeAsync() =>
        _plugin = await RunningPlugin.StartAsync(_provider, o => o with { HealthEndpoint = new IPEndPoint(IPAddress.Loopback, 0) });

    public async Task DisposeAsync()
    {
        await _plugin.DisposeAsync();
        _provider.Dispose();
        _keystore.Dispose();
    }

    [Fact]
    public async Task Twenty_thousand_mutated_ciphertexts_are_refused_through_v1_and_v2_and_the_server_stays_healthy()
    {
        var valid = await ValidCiphertextsAsync();
        var primaryKeyId = _provider.Primary.KeyId;
        var mutants = ByteMutations.Of(valid.Select(v => v.Ciphertext).ToArray(), c => EnvelopeFormat.Parse(c).Header.Length);
        var statuses = new ConcurrentDictionary<string, int>();
        var wrong = new ConcurrentQueue<string>();
        var next = -1;
        var clock = Stopwatch.StartNew();

        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Mutants)
            {
                var mutant = FixedSeedProperty.Generate(mutants, i);
                var cipher = ByteString.CopyFrom(mutant.Bytes);
                await ExpectRefusedAsync("v1", i, mutant, statuses, wrong, () =>
                    _plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = cipher }).ResponseAsync);
                await ExpectRefusedAsync("v2", i, mutant, statuses, wrong, () =>
                    _plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = cipher, KeyId = KeyIdFor(mutant.Bytes, primaryKeyId), Uid = $"mutant-{i}" }).ResponseAsync);
            }
        })));

        _output.WriteLine($"{Mutants} mutants x 2 APIs in {clock.Elapsed.TotalSeconds:F1} s: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Value}"))}");
        Assert.True(wrong.IsEmpty, $"{wrong.Count} calls not refused as they should be; first: {string.Join(" | ", wrong.Take(5))}");
        Assert.Equal(2 * Mutants, statuses.Values.Sum());
        Assert.True(statuses.GetValueOrDefault("v2 FailedPrecondition") > 0, "no mutant reached the root key lookup");

        await AssertHealthyAsync(valid);
    }

    private static async Task ExpectRefusedAsync(string api, int i, Mutant mutant, ConcurrentDictionary<string, int> statuses, ConcurrentQueue<string> wrong, Func<Task> call)
    {
        StatusCode code;
        try
        {
            await call();
            code = StatusCode.OK;
        }
        catch (RpcException e)
        {
            code = e.StatusCode;
        }

        statuses.AddOrUpdate($"{api} {code}", 1, (_, n) => n + 1);
        if (code is not (StatusCode.InvalidArgument or StatusCode.FailedPrecondition))
        {
            wrong.Enqueue($"{api} {code} for mutant {i}: {mutant}");
        }
    }

    /// <summary>The key_id kube-apiserver would send with the ciphertext it came from, so mutants get past the key_id check.</summary>
    private static string KeyIdFor(byte[] ciphertext, string fallback)
    {
        try
        {
            return $"{EnvelopeEncryptor.ReadRootKeyId(ciphertext)}@1";
        }
        catch (KmsException)
        {
            return fallback;
        }
    }

    /// <summary>Ciphertexts under two root keys and several DEKs, from both APIs, plus one under a root key this server lacks.</summary>
    private async Task<List<(byte[] Plaintext, byte[] Ciphertext)>> ValidCiphertextsAsync()
    {
        var valid = new List<(byte[], byte[])>();
        async Task SealAsync()
        {
            foreach (var size in new[] { 1, 32, 300 })
            {
                var plaintext = RandomNumberGenerator.GetBytes(size);
                var v1 = await _plugin.V1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plaintext) });
                var v2 = await _plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFrom(plaintext), Uid = "seed" });
                valid.Add((plaintext, v1.Cipher.ToByteArray()));
                valid.Add((plaintext, v2.Ciphertext.ToByteArray()));
            }
        }

        await SealAsync();
        _keystore.Promote(_second.Id);
        _provider.Reload(_keystore);
        await SealAsync();

        using var foreign = KeystoreRootKeyProvider.CreateDevelopment();
        using var foreignEncryptor = new EnvelopeEncryptor(foreign, new EnvelopeOptions(), TimeProvider.System);
        valid.Add(([], (await foreignEncryptor.EncryptAsync(new byte[32], default)).Ciphertext));
        return valid;
    }

    private async Task AssertHealthyAsync(List<(byte[] Plaintext, byte[] Ciphertext)> valid)
    {
        foreach (var (plaintext, ciphertext) in valid.Where(v => v.Plaintext.Length > 0))
        {
            var opened = await _plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(ciphertext) });
            Assert.Equal(plaintext, opened.Plain.ToByteArray());
        }

        var ping = await _plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = ByteString.CopyFromUtf8("ping"), Uid = "after" });
        var back = await _plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = ping.Ciphertext, KeyId = ping.KeyId, Uid = "after" });
        Assert.Equal("ping", back.Plaintext.ToStringUtf8());
        Assert.Equal("ok", (await _plugin.V2.StatusAsync(new V2.StatusRequest())).Healthz);
        using var http = new HttpClient { BaseAddress = _plugin.Host.HealthAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
    }
}
