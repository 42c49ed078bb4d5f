using System.Security.Cryptography;
using KmsPlugin.Core.Crypto;
using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Core.Tests.Keystore;

public sealed class KeystoreRootKeyTests : IDisposable
{
    private static readonly byte[] Context = "\x01kek-20250314-0badcafe"u8.ToArray();
    private readonly KeystoreRootKey _key = new("kek-20250314-0badcafe", RandomNumberGenerator.GetBytes(32));
    private readonly byte[] _dataKey = RandomNumberGenerator.GetBytes(32);

    public void Dispose() => _key.Dispose();

    [Fact]
    public async Task Wrap_then_unwrap_returns_the_data_key()
    {
        var wrapped = await _key.WrapAsync(_dataKey, Context, default);
        Assert.Equal(AesGcmSealer.Overhead + _dataKey.Length, wrapped.Length);

        var destination = new byte[64];
        var written = await _key.UnwrapAsync(wrapped, Context, destination, default);
        Assert.Equal(_dataKey.Length, written);
        Assert.Equal(_dataKey, destination[..written]);
    }

    [Fact]
    public async Task Wrapping_twice_uses_fresh_nonces()
    {
        var first = await _key.WrapAsync(_dataKey, Context, default);
        var second = await _key.WrapAsync(_dataKey, Context, default);
        Assert.NotEqual(first[..AesGcmSealer.NonceSize], second[..AesGcmSealer.NonceSize]);
    }

    [Fact]
    public async Task Wrong_context_is_rejected()
    {
        var wrapped = await _key.WrapAsync(_dataKey, Context, default);
        var other = Context.ToArray();
        other[^1] ^= 1;

        var error = await Assert.ThrowsAsync<KmsException>(async () => await _key.UnwrapAsync(wrapped, other, new byte[32], default));
        Assert.Equal(KmsErrorKind.InvalidCiphertext, error.Kind);
        Assert.Equal("ciphertext rejected: authentication failed", error.Message);
        await Assert.ThrowsAsync<KmsException>(async () => await _key.UnwrapAsync(wrapped, ReadOnlyMemory<byte>.Empty, new byte[32], default));
    }

    [Fact]
    public async Task Another_key_cannot_unwrap()
    {
        using var other = new KeystoreRootKey("kek-other", RandomNumberGenerator.GetBytes(32));
        var wrapped = await _key.WrapAsync(_dataKey, Context, default);
        await Assert.ThrowsAsync<KmsException>(async () => await other.UnwrapAsync(wrapped, Context, new byte[32], default));
    }

    [Fact]
    public async Task Every_single_bit_flip_is_rejected_and_leaves_the_destination_zero()
    {
        var wrapped = await _key.WrapAsync(_dataKey, Context, default);
        var destination = new byte[32];
        for (var bit = 0; bit < wrapped.Length * 8; bit++)
        {
            var tampered = wrapped.ToArray();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            var error = await Assert.ThrowsAsync<KmsException>(async () => await _key.UnwrapAsync(tampered, Context, destination, default));
            Assert.Equal(KmsErrorKind.InvalidCiphertext, error.Kind);
            Assert.All(destination, b => Assert.Equal(0, b));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(27)]
    public async Task Truncated_input_is_rejected(int length)
    {
        var error = await Assert.ThrowsAsync<KmsException>(async () => await _key.UnwrapAsync(new byte[length], Context, new byte[32], default));
        Assert.Equal(KmsErrorKind.InvalidCiphertext, error.Kind);
    }

    [Fact]
    public async Task Truncated_or_extended_wrapped_key_is_rejected()
    {
        var wrapped = await _key.WrapAsync(_dataKey, Context, default);
        await Assert.ThrowsAsync<KmsException>(async () => await _key.UnwrapAsync(wrapped[..^1], Context, new byte[32], default));
        await Assert.ThrowsAsync<KmsException>(async () => await _key.UnwrapAsync((byte[])[.. wrapped, 0], Context, new byte[64], default));
    }

    [Fact]
    public async Task Too_small_destination_is_a_caller_error()
    {
        var wrapped = await _key.WrapAsync(_dataKey, Context, default);
        await Assert.ThrowsAsync<ArgumentException>(async () => await _key.UnwrapAsync(wrapped, Context, new byte[31], default));
    }

    [Fact]
    public async Task Concurrent_use_from_eight_threads_is_correct()
    {
        const int threads = 8;
        const int rounds = 500;
        using var start = new Barrier(threads);
        var failures = 0;
        var workers = Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(async () =>
        {
            start.SignalAndWait();
            var context = new byte[] { (byte)t };
            var destination = new byte[32];
            for (var i = 0; i < rounds; i++)
            {
                var plain = RandomNumberGenerator.GetBytes(32);
                var wrapped = await _key.WrapAsync(plain, context, default);
                var written = await _key.UnwrapAsync(wrapped, context, destination, default);
                if (written != 32 || !destination.AsSpan().SequenceEqual(plain))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }, TaskCreationOptions.LongRunning).Unwrap()).ToArray();

        await Task.WhenAll(workers);
        Assert.Equal(0, failures);
    }

    [Fact]
    public async Task Disposed_key_refuses_use()
    {
        var wrapped = await _key.WrapAsync(_dataKey, Context, default);
        _key.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await _key.WrapAsync(_dataKey, Context, default));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await _key.UnwrapAsync(wrapped, Context, new byte[32], default));
    }

    [Fact]
    public void Material_must_be_32_bytes()
    {
        Assert.Throws<ArgumentException>(() => new KeystoreRootKey("kek-x", new byte[16]));
    }

    [Fact]
    public async Task Cancelled_token_is_honoured()
    {
        await Assert.ThrowsAsync<OperationCanceledException>(async () => await _key.WrapAsync(_dataKey, Context, new CancellationToken(canceled: true)));
    }
}
