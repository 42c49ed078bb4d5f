using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Grpc;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Grpc;

public sealed class KeyManagementServiceV1Tests : IAsyncLifetime
{
    private RunningPlugin _plugin = null!;

    public async Task InitializeAsync() => _plugin = await RunningPlugin.StartAsync(TestKeys.Development());

    public async Task DisposeAsync() => await _plugin.DisposeAsync();

    [Fact]
    public async Task Version_answers_what_kube_apiserver_checks()
    {
        var response = await _plugin.V1.VersionAsync(new VersionRequest { Version = "v1beta1" });

        Assert.Equal("v1beta1", response.Version);
        Assert.Equal("kms-plugin", response.RuntimeName);
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", response.RuntimeVersion);
    }

    [Fact]
    public void The_interceptor_and_services_are_singletons_grpc_resolves_not_constructs_per_call()
    {
        // Grpc builds an interceptor or service that is not in DI anew for every call, through reflection.
        foreach (var type in new[] { typeof(KmsCallInterceptor), typeof(KeyManagementServiceV1), typeof(KeyManagementServiceV2), typeof(RootKeyService) })
        {
            var first = _plugin.Host.Services.GetService(type);
            Assert.NotNull(first);
            Assert.Same(first, _plugin.Host.Services.GetService(type));
        }
    }

    [Fact]
    public async Task A_32_byte_dek_and_ping_round_trip()
    {
        foreach (var plain in new[] { RandomNumberGenerator.GetBytes(32), "ping"u8.ToArray() })
        {
            var encrypted = await _plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) });
            Assert.False(encrypted.Cipher.Span.IndexOf(plain) >= 0 && plain.Length > 4, "ciphertext contains the plaintext");
            var decrypted = await _plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = encrypted.Cipher });
            Assert.Equal(plain, decrypted.Plain.ToByteArray());
        }
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("random")]
    [InlineData("tampered")]
    [InlineData("truncated")]
    public async Task Bad_ciphertexts_are_invalid_argument_with_a_clear_message(string kind)
    {
        var good = (await _plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(new byte[32]) })).Cipher.ToByteArray();
        byte[] bad = kind switch
        {
            "empty" => [],
            "random" => RandomNumberGenerator.GetBytes(200),
            "tampered" => Flip(good, good.Length - 20),
            _ => good[..^1],
        };

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(bad) }));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("ciphertext rejected: ", ex.Status.Detail);
    }

    [Fact]
    public async Task A_ciphertext_under_an_unknown_root_key_is_failed_precondition_naming_it()
    {
        await using var other = await RunningPlugin.StartAsync(TestKeys.Development());
        var foreign = await other.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(new byte[32]) });
        var foreignKeyId = other.Host.Encryptor.Provider.Primary.Key.Id;

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = foreign.Cipher }));

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Equal($"root key \"{foreignKeyId}\" is not in the key ring", ex.Status.Detail);
    }

    [Fact]
    public async Task Sixteen_concurrent_callers_times_2000_calls_are_all_exact()
    {
        var failures = 0;
        var workers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 2000; i++)
            {
                var plain = RandomNumberGenerator.GetBytes(32);
                var encrypted = await _plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) });
                var decrypted = await _plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = encrypted.Cipher });
                if (!decrypted.Plain.Span.SequenceEqual(plain))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));

        await Task.WhenAll(workers);
        Assert.Equal(0, failures);
    }

    [Fact]
    public async Task An_oversized_plaintext_is_refused_cleanly()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(new byte[KeyManagementServiceV1.MaxPlaintextLength + 1]) }));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);

        ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(new byte[PluginHostOptions.DefaultMaxRequestBytes + 1]) }));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);

        var ok = await _plugin.V1.VersionAsync(new VersionRequest { Version = "v1beta1" });
        Assert.Equal("v1beta1", ok.Version);
    }

    private static byte[] Flip(byte[] data, int index)
    {
        var copy = (byte[])data.Clone();
        copy[index] ^= 0x40;
        return copy;
    }
}
