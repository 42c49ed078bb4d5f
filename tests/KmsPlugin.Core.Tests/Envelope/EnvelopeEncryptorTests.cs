using System.Security.Cryptography;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;
using Microsoft.Extensions.Time.Testing;

namespace KmsPlugin.Core.Tests.Envelope;

public sealed class EnvelopeEncryptorTests
{
    private readonly CountingKeyProvider _provider = new();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(1024)]
    [InlineData(1024 * 1024)]
    public async Task Round_trip_returns_the_exact_plaintext(int size)
    {
        using var encryptor = NewEncryptor();
        var plaintext = RandomNumberGenerator.GetBytes(size);

        var envelope = (await encryptor.EncryptAsync(plaintext, default)).Ciphertext;
        var opened = await encryptor.DecryptAsync(envelope, default);

        Assert.Equal(plaintext, opened);
        Assert.Equal(EnvelopeFormat.SealedLength(envelope.Length - size - 28, size), envelope.Length);
    }

    [Fact]
    public async Task Overhead_for_a_32_byte_key_is_far_below_the_v2_limit()
    {
        using var encryptor = NewEncryptor();
        var envelope = (await encryptor.EncryptAsync(new byte[32], default)).Ciphertext;
        Assert.InRange(envelope.Length, 33, 300);
        Assert.Equal("kek-test-1", EnvelopeEncryptor.ReadRootKeyId(envelope));
    }

    [Fact]
    public async Task Same_plaintext_twice_gives_different_envelopes()
    {
        using var encryptor = NewEncryptor();
        var a = (await encryptor.EncryptAsync(new byte[32], default)).Ciphertext;
        var b = (await encryptor.EncryptAsync(new byte[32], default)).Ciphertext;
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task Every_single_bit_flip_is_rejected_as_invalid_ciphertext()
    {
        using var encryptor = NewEncryptor();
        var envelope = (await encryptor.EncryptAsync(RandomNumberGenerator.GetBytes(32), default)).Ciphertext;

        for (var bit = 0; bit < envelope.Length * 8; bit++)
        {
            var tampered = (byte[])envelope.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            var ex = await Assert.ThrowsAsync<KmsException>(async () => await encryptor.DecryptAsync(tampered, default));
            Assert.True(ex.Kind is KmsErrorKind.InvalidCiphertext or KmsErrorKind.KeyUnavailable, $"bit {bit}: {ex.Kind} {ex.Message}");
        }
    }

    [Fact]
    public async Task Every_truncation_and_extension_is_rejected()
    {
        using var encryptor = NewEncryptor();
        var envelope = (await encryptor.EncryptAsync(RandomNumberGenerator.GetBytes(32), default)).Ciphertext;

        for (var length = 0; length < envelope.Length; length++)
        {
            var ex = await Assert.ThrowsAsync<KmsException>(async () => await encryptor.DecryptAsync(envelope.AsMemory(0, length), default));
            Assert.Equal(KmsErrorKind.InvalidCiphertext, ex.Kind);
        }

        foreach (var extra in new[] { 1, 16, 1000 })
        {
            var extended = envelope.Concat(new byte[extra]).ToArray();
            var ex = await Assert.ThrowsAsync<KmsException>(async () => await encryptor.DecryptAsync(extended, default));
            Assert.Equal(KmsErrorKind.InvalidCiphertext, ex.Kind);
        }
    }

    [Fact]
    public async Task Rejection_messages_are_clear_and_carry_no_bytes()
    {
        using var encryptor = NewEncryptor();
        var ex = await Assert.ThrowsAsync<KmsException>(async () => await encryptor.DecryptAsync(new byte[10], default));
        Assert.Equal("ciphertext rejected: too short (10 bytes)", ex.Message);

        var envelope = (await encryptor.EncryptAsync(new byte[32], default)).Ciphertext;
        envelope[^1] ^= 1;
        ex = await Assert.ThrowsAsync<KmsException>(async () => await encryptor.DecryptAsync(envelope, default));
        Assert.Equal("ciphertext rejected: authentication failed", ex.Message);

        envelope[0] = 9;
        ex = await Assert.ThrowsAsync<KmsException>(async () => await encryptor.DecryptAsync(envelope, default));
        Assert.Equal("ciphertext rejected: unknown format 0x09", ex.Message);
    }

    [Fact]
    public async Task Hot_paths_make_no_root_key_call()
    {
        using var encryptor = NewEncryptor();
        var envelopes = new List<byte[]>();
        for (var i = 0; i < 1000; i++)
        {
            envelopes.Add((await encryptor.EncryptAsync(RandomNumberGenerator.GetBytes(32), default)).Ciphertext);
        }

        foreach (var envelope in envelopes)
        {
            await encryptor.DecryptAsync(envelope, default);
        }

        Assert.Equal(1, _provider.Wraps);
        Assert.Equal(0, _provider.Unwraps);
    }

    [Fact]
    public async Task Hot_paths_allocate_nothing_but_their_output()
    {
        const int Calls = 200;
        using var encryptor = NewEncryptor();
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var envelope = (await encryptor.EncryptAsync(plaintext, default)).Ciphertext;
        await encryptor.DecryptAsync(envelope, default);

        // Both paths complete synchronously on this thread, so its allocation counter sees all of it.
        var outputs = AllocatedBy(() =>
        {
            for (var i = 0; i < Calls; i++)
            {
                GC.KeepAlive(new byte[envelope.Length]);
                GC.KeepAlive(new byte[plaintext.Length]);
            }
        });
        var hotPaths = AllocatedBy(() =>
        {
            for (var i = 0; i < Calls; i++)
            {
                GC.KeepAlive(CompletedResult(encryptor.EncryptAsync(plaintext, default)).Ciphertext);
                GC.KeepAlive(CompletedResult(encryptor.DecryptAsync(envelope, default)));
            }
        });

        Assert.Equal(outputs, hotPaths);
    }

    [Fact]
    public async Task Another_instance_unwraps_once_then_serves_from_its_cache()
    {
        using var writer = NewEncryptor();
        var envelopes = new List<byte[]>();
        for (var i = 0; i < 100; i++)
        {
            envelopes.Add((await writer.EncryptAsync(RandomNumberGenerator.GetBytes(32), default)).Ciphertext);
        }

        using var reader = NewEncryptor();
        foreach (var envelope in envelopes)
        {
            await reader.DecryptAsync(envelope, default);
        }

        Assert.Equal(1, _provider.Unwraps);
        Assert.Equal(99, reader.Cache.Hits);
        Assert.Equal(1, reader.Cache.Misses);
    }

    [Fact]
    public async Task Data_key_rotates_after_max_uses()
    {
        using var encryptor = NewEncryptor(new EnvelopeOptions { Rotation = new DataEncryptionKeyRotationPolicy { MaxUses = 3 } });
        var headers = new HashSet<string>();
        for (var i = 0; i < 9; i++)
        {
            var envelope = (await encryptor.EncryptAsync(new byte[32], default)).Ciphertext;
            headers.Add(Convert.ToHexString(envelope, 0, envelope.Length - 12 - 32 - 16));
        }

        Assert.Equal(3, headers.Count);
        Assert.Equal(3, _provider.Wraps);
        Assert.Equal(3, encryptor.DataKeyRotations);
    }

    [Fact]
    public async Task Data_key_rotates_at_max_age_on_the_injected_clock()
    {
        var clock = new FakeTimeProvider();
        using var encryptor = NewEncryptor(new EnvelopeOptions { Rotation = new DataEncryptionKeyRotationPolicy { MaxAge = TimeSpan.FromMinutes(10) } }, clock);

        await encryptor.EncryptAsync(new byte[32], default);
        clock.Advance(TimeSpan.FromMinutes(9));
        await encryptor.EncryptAsync(new byte[32], default);
        Assert.Equal(1, _provider.Wraps);

        clock.Advance(TimeSpan.FromMinutes(1));
        await encryptor.EncryptAsync(new byte[32], default);
        Assert.Equal(2, _provider.Wraps);
    }

    [Fact]
    public async Task Promoting_a_new_root_key_rotates_the_data_key_and_old_envelopes_still_open()
    {
        using var encryptor = NewEncryptor();
        var old = (await encryptor.EncryptAsync(new byte[] { 1, 2, 3 }, default)).Ciphertext;

        _provider.Add("kek-test-2");
        _provider.Promote("kek-test-2");
        var fresh = (await encryptor.EncryptAsync(new byte[] { 4, 5, 6 }, default)).Ciphertext;

        Assert.Equal("kek-test-1", EnvelopeEncryptor.ReadRootKeyId(old));
        Assert.Equal("kek-test-2", EnvelopeEncryptor.ReadRootKeyId(fresh));
        Assert.Equal(new byte[] { 1, 2, 3 }, await encryptor.DecryptAsync(old, default));
        Assert.Equal(new byte[] { 4, 5, 6 }, await encryptor.DecryptAsync(fresh, default));
    }

    [Fact]
    public async Task Unknown_root_key_is_a_failed_precondition_naming_the_id()
    {
        var other = new CountingKeyProvider("kek-elsewhere");
        using var foreign = new EnvelopeEncryptor(other, new EnvelopeOptions(), TimeProvider.System);
        var envelope = (await foreign.EncryptAsync(new byte[32], default)).Ciphertext;

        using var encryptor = NewEncryptor();
        var ex = await Assert.ThrowsAsync<KmsException>(async () => await encryptor.DecryptAsync(envelope, default));
        Assert.Equal(KmsErrorKind.KeyUnavailable, ex.Kind);
        Assert.Equal("root key \"kek-elsewhere\" is not in the key ring", ex.Message);
    }

    [Fact]
    public async Task A_disabled_root_key_is_refused_even_when_its_data_key_is_cached()
    {
        using var encryptor = NewEncryptor();
        var envelope = (await encryptor.EncryptAsync(new byte[32], default)).Ciphertext;
        await encryptor.DecryptAsync(envelope, default);
        _provider.Add("kek-test-2");
        _provider.Promote("kek-test-2");
        _provider.Disable("kek-test-1");

        var ex = await Assert.ThrowsAsync<KmsException>(async () => await encryptor.DecryptAsync(envelope, default));
        Assert.Equal(KmsErrorKind.KeyUnavailable, ex.Kind);
    }

    [Fact]
    public async Task A_cached_hit_asks_the_provider_again_only_after_the_key_ring_moved()
    {
        using var encryptor = NewEncryptor();
        var envelope = (await encryptor.EncryptAsync(new byte[32], default)).Ciphertext;
        await encryptor.DecryptAsync(envelope, default);
        var lookups = _provider.Lookups;

        for (var i = 0; i < 10; i++)
        {
            await encryptor.DecryptAsync(envelope, default);
        }

        Assert.Equal(lookups, _provider.Lookups);

        _provider.Add("kek-test-2");
        await encryptor.DecryptAsync(envelope, default);
        await encryptor.DecryptAsync(envelope, default);
        Assert.Equal(lookups + 1, _provider.Lookups);

        // 0: a provider that is not settled is asked on every hit.
        _provider.SetKeyRingVersion(0);
        await encryptor.DecryptAsync(envelope, default);
        await encryptor.DecryptAsync(envelope, default);
        Assert.Equal(lookups + 3, _provider.Lookups);
    }

    [Fact]
    public async Task A_wrapped_key_spliced_under_another_root_key_id_is_rejected()
    {
        _provider.Add("kek-test-2");
        using var encryptor = NewEncryptor();
        var envelope = (await encryptor.EncryptAsync(new byte[32], default)).Ciphertext;
        var spliced = (byte[])envelope.Clone();
        spliced[2 + "kek-test-".Length] = (byte)'2';

        var ex = await Assert.ThrowsAsync<KmsException>(async () => await encryptor.DecryptAsync(spliced, default));
        Assert.Equal(KmsErrorKind.InvalidCiphertext, ex.Kind);

        using var fresh = NewEncryptor();
        ex = await Assert.ThrowsAsync<KmsException>(async () => await fresh.DecryptAsync(spliced, default));
        Assert.Equal(KmsErrorKind.InvalidCiphertext, ex.Kind);
    }

    [Fact]
    public async Task Concurrent_misses_for_one_data_key_share_a_single_unwrap()
    {
        using var writer = NewEncryptor();
        var envelope = (await writer.EncryptAsync(new byte[32], default)).Ciphertext;
        using var reader = NewEncryptor();
        _provider.UnwrapGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var readers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () => await reader.DecryptAsync(envelope, default))).ToArray();
        await Task.Delay(200);
        _provider.UnwrapGate.SetResult();
        var results = await Task.WhenAll(readers);

        Assert.All(results, r => Assert.Equal(new byte[32], r));
        Assert.Equal(1, _provider.Unwraps);
    }

    [Fact]
    public async Task A_failed_unwrap_is_not_cached()
    {
        using var writer = NewEncryptor();
        var envelope = (await writer.EncryptAsync(new byte[32], default)).Ciphertext;
        var broken = (byte[])envelope.Clone();
        broken[2 + "kek-test-1".Length + 2 + 20] ^= 1;
        using var reader = NewEncryptor();

        await Assert.ThrowsAsync<KmsException>(async () => await reader.DecryptAsync(broken, default));
        await Assert.ThrowsAsync<KmsException>(async () => await reader.DecryptAsync(broken, default));
        Assert.Equal(2, _provider.Unwraps);
        Assert.Equal(0, reader.Cache.Count);
        Assert.Equal(new byte[32], await reader.DecryptAsync(envelope, default));
    }

    [Fact]
    public async Task Many_callers_encrypting_and_decrypting_through_rotations_all_get_exact_plaintexts()
    {
        using var encryptor = NewEncryptor(new EnvelopeOptions { DataKeyCacheCapacity = 8, Rotation = new DataEncryptionKeyRotationPolicy { MaxUses = 50 } });
        var workers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++)
            {
                var plaintext = RandomNumberGenerator.GetBytes(32);
                var envelope = (await encryptor.EncryptAsync(plaintext, default)).Ciphertext;
                Assert.Equal(plaintext, await encryptor.DecryptAsync(envelope, default));
            }
        }));
        await Task.WhenAll(workers);

        Assert.InRange(encryptor.DataKeyRotations, 16 * 500 / 50, 16 * 500 / 50 + 16);
        Assert.True(encryptor.Cache.Count <= 8);
    }

    private EnvelopeEncryptor NewEncryptor(EnvelopeOptions? options = null, TimeProvider? time = null) =>
        new(_provider, options ?? new EnvelopeOptions(), time ?? TimeProvider.System);

    private static T CompletedResult<T>(ValueTask<T> task)
    {
        Assert.True(task.IsCompletedSuccessfully, "the hot path must complete synchronously");
        return task.Result;
    }

    private static long AllocatedBy(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
