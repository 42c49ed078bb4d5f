using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Protocol.V2;
using KmsPlugin.Server.Tests.Support;
using V1 = KmsPlugin.Protocol.V1Beta1;

namespace KmsPlugin.Server.Tests.Grpc;

public sealed class KeyManagementServiceV2Tests : IAsyncLifetime
{
    private readonly ObservedKeyProvider _provider = new(TestKeys.Development());
    private readonly CapturedLogs _logs = new();
    private RunningPlugin _plugin = null!;

    public async Task InitializeAsync() => _plugin = await RunningPlugin.StartAsync(_provider, o => o with { LogLevel = LogLevel.Debug }, _logs.Configure);

    public async Task DisposeAsync() => await _plugin.DisposeAsync();

    [Fact]
    public async Task Status_answers_what_kube_apiserver_requires()
    {
        var status = await _plugin.V2.StatusAsync(new StatusRequest());

        Assert.Equal("v2", status.Version);
        Assert.Equal("ok", status.Healthz);
        Assert.Equal(_provider.Primary.KeyId, status.KeyId);
        Assert.Matches("^kek-[0-9]{8}-[0-9a-f]{8}@1$", status.KeyId);
    }

    [Fact]
    public async Task Status_never_costs_a_root_key_call()
    {
        var before = _provider.RootKeyCalls;
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal("ok", (await _plugin.V2.StatusAsync(new StatusRequest())).Healthz);
        }

        Assert.Equal(before, _provider.RootKeyCalls);
    }

    [Fact]
    public async Task Encrypt_returns_the_status_key_id_a_small_ciphertext_and_decrypts_back()
    {
        var status = await _plugin.V2.StatusAsync(new StatusRequest());
        var plaintext = RandomNumberGenerator.GetBytes(32);

        var encrypted = await Encrypt(plaintext);
        var decrypted = await Decrypt(encrypted.Ciphertext, encrypted.KeyId);

        Assert.Equal(status.KeyId, encrypted.KeyId);
        Assert.InRange(encrypted.Ciphertext.Length, 1, 1024);
        Assert.Empty(encrypted.Annotations);
        Assert.Equal(plaintext, decrypted.Plaintext.ToByteArray());
    }

    [Fact]
    public async Task Decrypt_refuses_a_key_id_that_does_not_match_the_ciphertext()
    {
        var encrypted = await Encrypt(new byte[32]);
        foreach (var keyId in new[] { "kek-20200101-00000000@1", "no-such-key", encrypted.KeyId + "x", "", "@1" })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(async () => await Decrypt(encrypted.Ciphertext, keyId));
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.Contains("key_id", ex.Status.Detail);
        }
    }

    [Fact]
    public async Task Decrypt_parses_the_envelope_header_once_on_a_hit_and_on_a_miss_through_v1_and_v2()
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var cached = await Encrypt(plaintext);
        // Two other plugins on the same root keys: each seals under a DEK this plugin has not cached.
        await using var writer = await RunningPlugin.StartAsync(_provider);
        await using var writerV1 = await RunningPlugin.StartAsync(_provider);
        var cold = await writer.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(plaintext), Uid = "u" });
        var coldV1 = await writerV1.V1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plaintext) });
        var engine = _plugin.Host.Encryptor;

        var parsed = engine.EnvelopesParsed;
        var misses = engine.Cache.Misses;
        Assert.Equal(plaintext, (await Decrypt(cached.Ciphertext, cached.KeyId)).Plaintext.ToByteArray());
        Assert.Equal(parsed + 1, engine.EnvelopesParsed);
        Assert.Equal(plaintext, (await _plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = cached.Ciphertext })).Plain.ToByteArray());
        Assert.Equal(parsed + 2, engine.EnvelopesParsed);
        Assert.Equal(misses, engine.Cache.Misses);

        Assert.Equal(plaintext, (await Decrypt(cold.Ciphertext, cold.KeyId)).Plaintext.ToByteArray());
        Assert.Equal(parsed + 3, engine.EnvelopesParsed);
        Assert.Equal(plaintext, (await _plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = coldV1.Cipher })).Plain.ToByteArray());
        Assert.Equal(parsed + 4, engine.EnvelopesParsed);
        Assert.Equal(misses + 2, engine.Cache.Misses);
    }

    [Fact]
    public async Task Decrypt_of_data_under_an_unknown_root_key_is_failed_precondition_naming_it()
    {
        await using var other = await RunningPlugin.StartAsync(TestKeys.Development());
        var foreign = await other.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(new byte[32]), Uid = "u" });

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await Decrypt(foreign.Ciphertext, foreign.KeyId));

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Equal($"root key \"{EnvelopeEncryptor.ReadRootKeyId(foreign.Ciphertext.Span)}\" is not in the key ring", ex.Status.Detail);
    }

    [Fact]
    public async Task Tampered_and_malformed_ciphertexts_are_invalid_argument()
    {
        var encrypted = await Encrypt(new byte[32]);
        var tampered = encrypted.Ciphertext.ToByteArray();
        tampered[^3] ^= 1;

        foreach (var bad in new[] { tampered, [], RandomNumberGenerator.GetBytes(100) })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(async () => await Decrypt(ByteString.CopyFrom(bad), encrypted.KeyId));
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        }
    }

    [Fact]
    public async Task A_plaintext_too_large_for_a_v2_ciphertext_is_refused()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await Encrypt(new byte[1000]));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("1024", ex.Status.Detail);
    }

    [Fact]
    public async Task Ciphertexts_are_the_same_format_through_v1_and_v2()
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var fromV1 = await _plugin.V1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plaintext) });
        var status = await _plugin.V2.StatusAsync(new StatusRequest());
        Assert.Equal(plaintext, (await Decrypt(fromV1.Cipher, status.KeyId)).Plaintext.ToByteArray());

        var fromV2 = await Encrypt(plaintext);
        var back = await _plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = fromV2.Ciphertext });
        Assert.Equal(plaintext, back.Plain.ToByteArray());
    }

    [Fact]
    public async Task Health_follows_the_root_key_and_recovers_without_restart()
    {
        _provider.Unreachable = true;
        await _plugin.Host.Health.CheckNowAsync(default);
        var status = await _plugin.V2.StatusAsync(new StatusRequest());
        Assert.Equal("root key check failed: root key provider not reachable (test)", status.Healthz);
        Assert.Equal(_provider.Primary.KeyId, status.KeyId);

        _provider.Unreachable = false;
        await _plugin.Host.Health.CheckNowAsync(default);
        Assert.Equal("ok", (await _plugin.V2.StatusAsync(new StatusRequest())).Healthz);
        Assert.Contains(_logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("unhealthy: root key check failed"));
    }

    [Fact]
    public async Task The_request_uid_is_in_the_scope_of_every_log_line_of_the_call()
    {
        var uid = Guid.NewGuid().ToString();
        await Assert.ThrowsAsync<RpcException>(async () =>
            await _plugin.V2.DecryptAsync(new DecryptRequest { Ciphertext = ByteString.CopyFrom(new byte[5]), KeyId = "kek-a@1", Uid = uid }));

        var rejected = Assert.Single(_logs.Entries, e => e.Message.Contains("rejected") && e.Scopes.Any(s => s.Contains(uid)));
        Assert.Contains(rejected.Scopes, s => s == $"/v2.KeyManagementService/Decrypt uid={uid}");
    }

    [Fact]
    public async Task Annotations_that_break_kube_apiserver_rules_are_refused_and_valid_unknown_ones_ignored()
    {
        var encrypted = await Encrypt(new byte[32]);

        var oversized = NewDecrypt(encrypted);
        oversized.Annotations.Add("big.example.com", ByteString.CopyFrom(new byte[32 * 1024]));
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await _plugin.V2.DecryptAsync(oversized));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("at most 32768", ex.Status.Detail);

        var notDomain = NewDecrypt(encrypted);
        notDomain.Annotations.Add("Not_A_Domain", ByteString.Empty);
        ex = await Assert.ThrowsAsync<RpcException>(async () => await _plugin.V2.DecryptAsync(notDomain));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);

        var unknown = NewDecrypt(encrypted);
        unknown.Annotations.Add("future.kms-plugin.example.com", ByteString.CopyFromUtf8("1"));
        Assert.Equal(new byte[32], (await _plugin.V2.DecryptAsync(unknown)).Plaintext.ToByteArray());
    }

    [Fact]
    public async Task A_key_id_that_is_not_utf8_is_invalid_argument_and_the_plugin_stays_healthy()
    {
        var encrypted = await Encrypt(new byte[32]);
        // DecryptRequest by hand: field 1 = ciphertext, field 3 = key_id with bytes that are not UTF-8.
        var payload = new List<byte> { 0x0a };
        payload.AddRange(Varint(encrypted.Ciphertext.Length));
        payload.AddRange(encrypted.Ciphertext.ToByteArray());
        payload.AddRange(new byte[] { 0x1a, 0x03, 0xff, 0xfe, 0x41 });
        var raw = global::Grpc.Core.Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "v2.KeyManagementService", "Decrypt", raw, raw);

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _plugin.Channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(), payload.ToArray()));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("ok", (await _plugin.V2.StatusAsync(new StatusRequest())).Healthz);
    }

    private static DecryptRequest NewDecrypt(EncryptResponse encrypted) =>
        new() { Ciphertext = encrypted.Ciphertext, KeyId = encrypted.KeyId, Uid = Guid.NewGuid().ToString() };

    private static IEnumerable<byte> Varint(int value)
    {
        while (value >= 0x80)
        {
            yield return (byte)(value | 0x80);
            value >>= 7;
        }

        yield return (byte)value;
    }

    private Task<EncryptResponse> Encrypt(byte[] plaintext) =>
        _plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(plaintext), Uid = Guid.NewGuid().ToString() }).ResponseAsync;

    private Task<DecryptResponse> Decrypt(ByteString ciphertext, string keyId) =>
        _plugin.V2.DecryptAsync(new DecryptRequest { Ciphertext = ciphertext, KeyId = keyId, Uid = Guid.NewGuid().ToString() }).ResponseAsync;
}
