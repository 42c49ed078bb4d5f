using System.Net;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V2;
using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Server.Tests.Hosting;

/// <summary>"Before your root key expires, you must use a new root key": warned ahead, refused after.</summary>
public sealed class RootKeyExpiryTests
{
    [Fact]
    public async Task The_plugin_warns_before_the_primary_expires_and_never_wraps_with_it_after()
    {
        using var dir = new TempDirectory();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        var options = new KeystoreOptions { Kdf = new KeystoreKdfParameters(1024, 1, 1), AllowWeakKdfForTests = true, TimeProvider = clock };
        using var keystore = KeystoreFile.Create(dir.File("keystore.json"), "p"u8, options, primaryExpiresAt: clock.GetUtcNow().AddDays(10));
        using var provider = new KeystoreRootKeyProvider(keystore, clock);
        var logs = new CapturedLogs();
        await using var plugin = await RunningPlugin.StartAsync(provider, o => o with { HealthEndpoint = new IPEndPoint(IPAddress.Loopback, 0), LogLevel = LogLevel.Information }, logs.Configure, clock);
        using var http = new HttpClient { BaseAddress = plugin.Host.HealthAddress };

        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("expires at 2026-11-11 00:00:00Z, in 10 days"));
        Assert.Contains("kms_plugin_primary_root_key_expiry_seconds{provider=\"software\"} 864000", await http.GetStringAsync("/metrics"));
        var before = await plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(new byte[32]), Uid = "u" });

        clock.Advance(TimeSpan.FromDays(11));
        await plugin.Host.Health.CheckNowAsync(default);

        var status = await plugin.V2.StatusAsync(new StatusRequest());
        Assert.StartsWith($"root key check failed: root key \"{keystore.PrimaryKey.Id}\" expired at 2026-11-11T00:00:00Z", status.Healthz);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/healthz")).StatusCode);
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(new byte[32]), Uid = "u" }));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        var readable = await plugin.V2.DecryptAsync(new DecryptRequest { Ciphertext = before.Ciphertext, KeyId = before.KeyId, Uid = "u" });
        Assert.Equal(new byte[32], readable.Plaintext.ToByteArray());
    }
}
