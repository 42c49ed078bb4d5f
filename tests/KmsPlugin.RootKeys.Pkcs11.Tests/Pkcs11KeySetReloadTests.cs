using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;

namespace KmsPlugin.RootKeys.Pkcs11.Tests;

/// <summary>Switching the primary and decrypt-only labels of a running provider (a config reload).</summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11KeySetReloadTests
{
    private static readonly byte[] Context = "\u0001p11-a"u8.ToArray();

    [Fact]
    public async Task A_promoted_key_becomes_primary_and_the_old_one_stays_readable()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a", "b");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a"));
        var wrapped = await provider.Primary.Key.WrapAsync(new byte[32], Context, default);
        using (var admin = token.Admin())
        {
            admin.Promote("b");
        }

        var outcome = provider.Reload("b", ["a"]);

        Assert.Equal($"primary key_id p11-b@2, 2 root keys on token \"{token.Label}\"", outcome);
        Assert.Equal("p11-b@2", provider.Primary.KeyId);
        Assert.Equal(32, await provider.GetForDecrypt("p11-a").UnwrapAsync(wrapped, Context, new byte[64], default));
    }

    [Fact]
    public void The_same_labels_keep_the_same_primary_instance()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a"));
        var before = provider.Primary;

        provider.Reload("a", []);

        Assert.Same(before, provider.Primary);
    }

    [Fact]
    public void Every_reload_moves_the_key_ring_version_and_a_refused_one_does_not()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a", "b");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a", "b"));
        var connected = provider.KeyRingVersion;
        Assert.NotEqual(0, connected);

        provider.Reload("a", []);
        Assert.True(provider.KeyRingVersion > connected);
        Assert.Throws<KmsException>(() => provider.GetForDecrypt("p11-b"));

        var reloaded = provider.KeyRingVersion;
        Assert.Throws<KmsException>(() => provider.Reload("missing", []));
        Assert.Equal(reloaded, provider.KeyRingVersion);
    }

    [Theory]
    [InlineData("b", new string[0], "the token's promotion record says the primary is \"a\"")]
    [InlineData("missing", new string[0], "no AES key labelled \"missing\"")]
    [InlineData("a", new[] { "a" }, "key label \"a\" is both the primary and a decrypt-only key")]
    [InlineData("bad label", new string[0], "key label \"bad label\" is not valid")]
    [InlineData(null, new string[0], "no PKCS#11 primary key label")]
    public async Task A_set_the_token_refuses_keeps_the_running_keys(string? primary, string[] decryptOnly, string reason)
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a", "b");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a"));
        var wrapped = await provider.Primary.Key.WrapAsync(new byte[32], Context, default);

        var ex = Assert.Throws<KmsException>(() => provider.Reload(primary, decryptOnly));

        Assert.Contains(reason, ex.Message);
        Assert.Equal("p11-a@1", provider.Primary.KeyId);
        Assert.Equal(32, await provider.GetForDecrypt("p11-a").UnwrapAsync(wrapped, Context, new byte[64], default));
        Assert.Throws<KmsException>(() => provider.GetForDecrypt("p11-b"));
    }
}
