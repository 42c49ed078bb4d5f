using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;

namespace KmsPlugin.RootKeys.Pkcs11.Tests;

[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11RootKeyProviderTests
{
    private static readonly byte[] Context = "\u0001p11-a"u8.ToArray();

    [Fact]
    public async Task Wraps_and_unwraps_inside_the_token()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a"));

        var primary = provider.Primary;
        Assert.Equal("pkcs11", provider.Name);
        Assert.Equal("p11-a", primary.Key.Id);
        Assert.Equal("p11-a@1", primary.KeyId);

        var dek = RandomNumberGenerator.GetBytes(32);
        var wrapped = await primary.Key.WrapAsync(dek, Context, default);
        Assert.Equal(12 + 32 + 16, wrapped.Length);
        Assert.NotEqual(wrapped, await primary.Key.WrapAsync(dek, Context, default));

        var buffer = new byte[wrapped.Length];
        var written = await provider.GetForDecrypt("p11-a").UnwrapAsync(wrapped, Context, buffer, default);
        Assert.Equal(dek, buffer[..written]);
    }

    [Fact]
    public async Task Wrong_context_and_every_bit_flip_are_rejected_as_invalid_ciphertext()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a"));
        var key = provider.Primary.Key;
        var wrapped = await key.WrapAsync(RandomNumberGenerator.GetBytes(32), Context, default);
        var buffer = new byte[wrapped.Length];

        var wrongContext = await Assert.ThrowsAsync<KmsException>(() => key.UnwrapAsync(wrapped, "\u0001p11-b"u8.ToArray(), buffer, default).AsTask());
        Assert.Equal(KmsErrorKind.InvalidCiphertext, wrongContext.Kind);
        Assert.Equal("ciphertext rejected: data key unwrap failed", wrongContext.Message);

        for (var bit = 0; bit < wrapped.Length * 8; bit++)
        {
            var tampered = wrapped.ToArray();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            var ex = await Assert.ThrowsAsync<KmsException>(() => key.UnwrapAsync(tampered, Context, buffer, default).AsTask());
            Assert.Equal(KmsErrorKind.InvalidCiphertext, ex.Kind);
        }

        foreach (var length in new[] { 0, 1, 28, wrapped.Length - 1 })
        {
            var ex = await Assert.ThrowsAsync<KmsException>(() => key.UnwrapAsync(wrapped.AsMemory(0, length), Context, buffer, default).AsTask());
            Assert.Equal(KmsErrorKind.InvalidCiphertext, ex.Kind);
        }

        Assert.Equal(32, await key.UnwrapAsync(wrapped, Context, buffer, default));
    }

    [Fact]
    public async Task A_decrypt_only_key_unwraps_but_is_never_primary()
    {
        var token = SoftHsm.CreateToken().WithKeys(false, "old", "new");
        byte[] wrapped;
        using (var before = Pkcs11RootKeyProvider.Open(token.Options("old")))
        {
            wrapped = await before.Primary.Key.WrapAsync(new byte[32], Context, default);
        }

        using var provider = Pkcs11RootKeyProvider.Open(token.Options("new", "old"));
        Assert.Equal("p11-new", provider.Primary.Key.Id);
        var buffer = new byte[64];
        Assert.Equal(32, await provider.GetForDecrypt("p11-old").UnwrapAsync(wrapped, Context, buffer, default));

        // The other key cannot open it.
        var ex = await Assert.ThrowsAsync<KmsException>(() => provider.GetForDecrypt("p11-new").UnwrapAsync(wrapped, Context, buffer, default).AsTask());
        Assert.Equal(KmsErrorKind.InvalidCiphertext, ex.Kind);
    }

    [Fact]
    public void An_unknown_id_is_key_unavailable()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a"));
        foreach (var id in new[] { "p11-b", "a", "kek-1", "" })
        {
            var ex = Assert.Throws<KmsException>(() => provider.GetForDecrypt(id));
            Assert.Equal(KmsErrorKind.KeyUnavailable, ex.Kind);
            Assert.Equal($"root key \"{id}\" is not in the key ring", ex.Message);
        }
    }

    [Fact]
    public async Task Sixteen_threads_share_the_session_pool()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a") with { MaxSessions = 4 });
        var key = provider.Primary.Key;
        var workers = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            var buffer = new byte[64];
            for (var n = 0; n < 300; n++)
            {
                var dek = RandomNumberGenerator.GetBytes(32);
                var wrapped = await key.WrapAsync(dek, Context, default);
                var written = await provider.GetForDecrypt("p11-a").UnwrapAsync(wrapped, Context, buffer, default);
                Assert.Equal(dek, buffer[..written]);
            }
        }));
        await Task.WhenAll(workers);
    }

    [Fact]
    public void A_wrong_pin_is_reported_at_open()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        var ex = Assert.Throws<KmsException>(() => Pkcs11RootKeyProvider.Open(token.Options("a") with { Pin = "nope-1234"u8.ToArray() }));
        Assert.Equal(KmsErrorKind.ProviderUnavailable, ex.Kind);
        Assert.Equal($"PKCS#11 login to token \"{token.Label}\" failed: wrong PIN", ex.Message);
        Assert.DoesNotContain(token.Pin, ex.ToString());
    }

    [Fact]
    public async Task A_missing_token_gives_a_provider_that_reports_it_and_connects_when_the_token_appears()
    {
        _ = SoftHsm.ConfigPath;
        var label = "late-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var options = new Pkcs11ProviderOptions
        {
            ModulePath = SoftHsm.ModulePath,
            TokenLabel = label,
            Pin = "1234"u8.ToArray(),
            PrimaryKeyLabel = "a",
        };
        using var provider = Pkcs11RootKeyProvider.Open(options);
        var ex = Assert.Throws<KmsException>(() => provider.Primary);
        Assert.Equal(KmsErrorKind.ProviderUnavailable, ex.Kind);
        Assert.Equal($"PKCS#11 token \"{label}\" not found", ex.Message);
        Assert.Equal(ex.Message, Assert.Throws<KmsException>(() => provider.GetForDecrypt("p11-a")).Message);
        Assert.Equal(0, provider.KeyRingVersion);

        SoftHsm.Util("--init-token", "--free", "--label", label, "--pin", "1234", "--so-pin", "5678");
        using (var admin = Pkcs11TokenAdmin.Open(SoftHsm.ModulePath, label, null, "1234"u8.ToArray()))
        {
            admin.GenerateKey("a", primary: true);
        }

        var primary = await EventuallySync(() => provider.Primary);
        Assert.Equal("p11-a@1", primary.KeyId);
        Assert.NotEqual(0, provider.KeyRingVersion);
        Assert.Equal(32, await primary.Key.UnwrapAsync(await primary.Key.WrapAsync(new byte[32], Context, default), Context, new byte[64], default));
    }

    [Fact]
    public void A_missing_key_label_is_reported_at_open()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        var ex = Assert.Throws<KmsException>(() => Pkcs11RootKeyProvider.Open(token.Options("a", "gone")));
        Assert.Equal(KmsErrorKind.KeyUnavailable, ex.Kind);
        Assert.Equal($"root key \"p11-gone\": no AES key labelled \"gone\" on token \"{token.Label}\"", ex.Message);
    }

    [Fact]
    public void A_missing_module_and_bad_labels_are_configuration_problems()
    {
        var token = SoftHsm.CreateToken();
        var ex = Assert.Throws<KmsException>(() => Pkcs11RootKeyProvider.Open(token.Options("a") with { ModulePath = "/nonexistent/libvendor.so" }));
        Assert.Equal(KmsErrorKind.ProviderUnavailable, ex.Kind);
        Assert.Equal("PKCS#11 module \"/nonexistent/libvendor.so\" does not exist", ex.Message);

        var labels = Assert.Throws<KmsException>(() => Pkcs11RootKeyProvider.Open(token.Options("a b", "", new string('x', 201))));
        Assert.Contains("key label \"a b\" is not valid", labels.Message);
        Assert.Contains("key label \"\" is not valid", labels.Message);
        Assert.Contains($"key label \"{new string('x', 201)}\" is not valid", labels.Message);
    }

    [Fact]
    public async Task A_hanging_call_times_out_within_the_call_timeout()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        using var release = new ManualResetEventSlim(false);
        var hang = false;
        var options = token.Options("a") with
        {
            CallTimeout = TimeSpan.FromMilliseconds(500),
            MaxSessions = 1,
            BeforeCall = () =>
            {
                if (Volatile.Read(ref hang))
                {
                    release.Wait(TimeSpan.FromSeconds(30));
                }
            },
        };
        using var provider = Pkcs11RootKeyProvider.Open(options);
        var key = provider.Primary.Key;
        Volatile.Write(ref hang, true);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<KmsException>(() => key.WrapAsync(new byte[32], Context, default).AsTask());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Equal(KmsErrorKind.ProviderUnavailable, ex.Kind);
        Assert.Equal("PKCS#11 call timed out after 0.5s", ex.Message);

        // The stuck call still holds the only session: the next caller times out waiting for it.
        var busy = await Assert.ThrowsAsync<KmsException>(() => key.WrapAsync(new byte[32], Context, default).AsTask());
        Assert.StartsWith("PKCS#11 call timed out after 0.5s", busy.Message);

        Volatile.Write(ref hang, false);
        release.Set();
        await Eventually(async () => await key.WrapAsync(new byte[32], Context, default));
    }

    [Fact]
    public async Task The_token_made_unreachable_mid_run_gives_errors_then_recovers_without_a_new_provider()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a"));
        var key = provider.Primary.Key;
        var wrapped = await key.WrapAsync(new byte[32], Context, default);

        // SoftHSM serves a token from memory once loaded, so its files vanishing is noticed only when
        // the module starts again: the HSM "reboots" (re-initialisation under every open session).
        var hidden = Path.Combine(Path.GetDirectoryName(SoftHsm.TokenDirectory)!, Path.GetFileName(token.Directory) + ".hidden");
        Directory.Move(token.Directory, hidden);
        try
        {
            Assert.True(Pkcs11Module.Load(SoftHsm.ModulePath).TryReinitialize());
            var ex = await Assert.ThrowsAsync<KmsException>(() => key.WrapAsync(new byte[32], Context, default).AsTask());
            Assert.Equal(KmsErrorKind.ProviderUnavailable, ex.Kind);
            Assert.Equal($"PKCS#11 token \"{token.Label}\" not found", ex.Message);
            var again = await Assert.ThrowsAsync<KmsException>(() => key.UnwrapAsync(wrapped, Context, new byte[64], default).AsTask());
            Assert.Equal(ex.Message, again.Message);
        }
        finally
        {
            Directory.Move(hidden, token.Directory);
        }

        var written = await Eventually(async () => await key.UnwrapAsync(wrapped, Context, new byte[64], default));
        Assert.Equal(32, written);
    }

    [Fact]
    public async Task Sessions_closed_under_the_pool_are_reopened_and_logged_in_again_transparently()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "a");
        using var provider = Pkcs11RootKeyProvider.Open(token.Options("a"));
        var key = provider.Primary.Key;
        var wrapped = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => key.WrapAsync(new byte[32], Context, default).AsTask()));

        // Every session of the token goes (and with the last one, the login): the pool's handles are dead.
        var module = Pkcs11Module.Load(SoftHsm.ModulePath);
        module.EnterCall();
        try
        {
            Pkcs11SlotFinder.Find(module.Library, token.Label, null)!.CloseAllSessions();
        }
        finally
        {
            module.ExitCall();
        }

        var buffer = new byte[64];
        foreach (var item in wrapped)
        {
            Assert.Equal(32, await key.UnwrapAsync(item, Context, buffer, default));
        }

        Assert.Equal(32, await key.UnwrapAsync(await key.WrapAsync(new byte[32], Context, default), Context, buffer, default));
    }

    internal static async Task<T> Eventually<T>(Func<Task<T>> action)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                return await action();
            }
            catch (KmsException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    internal static Task<T> EventuallySync<T>(Func<T> action) => Eventually(() => Task.FromResult(action()));
}
