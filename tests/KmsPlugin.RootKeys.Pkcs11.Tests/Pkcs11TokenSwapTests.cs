using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;

namespace KmsPlugin.RootKeys.Pkcs11.Tests;

/// <summary>
/// The provider finds its token and keys by label again after every reconnect. A token deleted and
/// initialised again with the same labels (new key material) must not take over the key ids.
/// </summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11TokenSwapTests
{
    private static readonly byte[] Context = "\u0001p11-a"u8.ToArray();

    [Fact]
    public async Task A_token_re_initialised_with_the_same_labels_is_caught_at_reconnect_and_its_keys_are_refused()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a", "b");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a", "b"));
        var refused = new List<string>();
        provider.KeyRefused = reason =>
        {
            lock (refused)
            {
                refused.Add(reason);
            }
        };
        var key = provider.Primary.Key;
        var recorded = provider.DescribeKeys()[0].CheckValue;
        var wrapped = await key.WrapAsync(new byte[32], Context, default);

        // Same token label, same key labels, new material; then the HSM "reboots" (module re-initialisation).
        SoftHsm.Util("--delete-token", "--token", token.Label);
        SoftHsm.Util("--init-token", "--free", "--label", token.Label, "--pin", token.Pin, "--so-pin", "so-" + token.Pin);
        Assert.True(Pkcs11Module.Load(SoftHsm.ModulePath).TryReinitialize());
        token.WithKeys(true, "a", "b");

        var ex = await Pkcs11RootKeyProviderTests.Eventually(async () =>
        {
            try
            {
                await key.WrapAsync(new byte[32], Context, default);
                return (KmsException?)null;
            }
            catch (KmsException e) when (e.Kind == KmsErrorKind.KeyUnavailable)
            {
                return e;
            }
        });
        Assert.NotNull(ex);
        Assert.StartsWith($"root key \"p11-a\" on token \"{token.Label}\" has key check value ", ex.Message);
        Assert.EndsWith($", not {recorded} as when it was loaded: the token was swapped or re-initialised; the key is refused until the plugin restarts with the right token", ex.Message);

        var unwrap = await Assert.ThrowsAsync<KmsException>(() => provider.GetForDecrypt("p11-a").UnwrapAsync(wrapped, Context, new byte[64], default).AsTask());
        Assert.Equal(ex.Message, unwrap.Message);
        await Assert.ThrowsAsync<KmsException>(() => provider.GetForDecrypt("p11-b").WrapAsync(new byte[32], Context, default).AsTask());
        lock (refused)
        {
            Assert.Equal(2, refused.Count);
            Assert.Contains(refused, r => r.StartsWith("root key \"p11-a\"", StringComparison.Ordinal));
            Assert.Contains(refused, r => r.StartsWith("root key \"p11-b\"", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_same_token_coming_back_after_a_reconnect_passes_the_check()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a"));
        var refused = 0;
        provider.KeyRefused = _ => Interlocked.Increment(ref refused);
        var key = provider.Primary.Key;
        var wrapped = await key.WrapAsync(new byte[32], Context, default);

        Assert.True(Pkcs11Module.Load(SoftHsm.ModulePath).TryReinitialize());
        Assert.Equal(32, await Pkcs11RootKeyProviderTests.Eventually(async () => await key.UnwrapAsync(wrapped, Context, new byte[64], default)));
        Assert.Equal(0, Volatile.Read(ref refused));
    }
}
