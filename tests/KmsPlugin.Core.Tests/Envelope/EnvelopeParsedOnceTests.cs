using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;

namespace KmsPlugin.Core.Tests.Envelope;

/// <summary>The request path reads an envelope's header once, whether its DEK is cached or not.</summary>
public sealed class EnvelopeParsedOnceTests
{
    private readonly CountingKeyProvider _provider = new();

    [Fact]
    public async Task A_cache_hit_parses_the_header_once()
    {
        using var encryptor = NewEncryptor();
        var envelope = (await encryptor.EncryptAsync(new byte[32], default)).Ciphertext;

        Assert.Equal(new byte[32], await encryptor.DecryptAsync(envelope, default));

        Assert.Equal(1, encryptor.Cache.Hits);
        Assert.Equal(1, encryptor.EnvelopesParsed);
    }

    [Fact]
    public async Task A_cache_miss_parses_the_header_once()
    {
        byte[] envelope;
        using (var writer = NewEncryptor())
        {
            envelope = (await writer.EncryptAsync(new byte[32], default)).Ciphertext;
        }

        using var reader = NewEncryptor();
        Assert.Equal(new byte[32], await reader.DecryptAsync(envelope, default));

        Assert.Equal(1, reader.Cache.Misses);
        Assert.Equal(1, _provider.Unwraps);
        Assert.Equal(1, reader.EnvelopesParsed);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_expected_root_key_is_checked_on_the_same_parse(bool cached)
    {
        using var writer = NewEncryptor();
        var envelope = (await writer.EncryptAsync(new byte[32], default)).Ciphertext;
        using var reader = cached ? null : NewEncryptor();
        var encryptor = reader ?? writer;
        var before = encryptor.EnvelopesParsed;

        var opened = await encryptor.DecryptAsync(envelope, new ExpectedRootKey("kek-test-1", "kek-test-1@1"), default);

        Assert.Equal(new byte[32], opened);
        Assert.Equal(before + 1, encryptor.EnvelopesParsed);
    }

    [Fact]
    public async Task Another_expected_root_key_is_refused_before_any_key_is_used()
    {
        byte[] envelope;
        using (var writer = NewEncryptor())
        {
            envelope = (await writer.EncryptAsync(new byte[32], default)).Ciphertext;
        }

        using var reader = NewEncryptor();
        var ex = await Assert.ThrowsAsync<KmsException>(async () =>
            await reader.DecryptAsync(envelope, new ExpectedRootKey("kek-other", "kek-other@1\n"), default));

        Assert.Equal(KmsErrorKind.InvalidCiphertext, ex.Kind);
        Assert.Equal("key_id \"kek-other@1?\" does not match root key \"kek-test-1\" named in the ciphertext", ex.Message);
        Assert.Equal(0, _provider.Unwraps);
        Assert.Equal(0, reader.Cache.Misses + reader.Cache.Hits);
        Assert.Equal(1, reader.EnvelopesParsed);
    }

    private EnvelopeEncryptor NewEncryptor() => new(_provider, new EnvelopeOptions(), TimeProvider.System);
}
