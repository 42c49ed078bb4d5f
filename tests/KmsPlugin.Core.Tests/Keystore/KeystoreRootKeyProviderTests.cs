using KmsPlugin.Core.Envelope;
using KmsPlugin.Core.Errors;
using KmsPlugin.RootKeys.Keystore;
using Microsoft.Extensions.Time.Testing;
using static KmsPlugin.Core.Tests.Keystore.KeystoreTestData;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Core.Tests.Keystore;

public sealed class KeystoreRootKeyProviderTests : IDisposable
{
    private static readonly byte[] Context = "ctx"u8.ToArray();
    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 14, 15, 9, 26, TimeSpan.Zero));
    private readonly string _path;

    public KeystoreRootKeyProviderTests()
    {
        _path = _temp.File("ks.json");
        KeystoreFile.Create(_path, Passphrase, Options(_time)).Dispose();
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Primary_is_stable_and_wraps_what_GetForDecrypt_unwraps()
    {
        using var provider = Load();
        Assert.Equal("software", provider.Name);
        var primary = provider.Primary.Key;
        Assert.Same(primary, provider.Primary.Key);
        Assert.Same(primary, provider.GetForDecrypt(primary.Id));

        var dek = new byte[32];
        dek[0] = 7;
        var wrapped = await primary.WrapAsync(dek, Context, default);
        var output = new byte[32];
        await provider.GetForDecrypt(primary.Id).UnwrapAsync(wrapped, Context, output, default);
        Assert.Equal(dek, output);
    }

    [Fact]
    public async Task Provider_outlives_the_keystore_it_was_built_from()
    {
        KeystoreRootKeyProvider provider;
        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options(_time)))
        {
            provider = new KeystoreRootKeyProvider(keystore, _time);
        }

        using (provider)
        {
            Assert.NotNull(await provider.Primary.Key.WrapAsync(new byte[32], Context, default));
        }
    }

    [Fact]
    public void Unknown_key_is_refused()
    {
        using var provider = Load();
        var error = Assert.Throws<KmsException>(() => provider.GetForDecrypt("kek-20990101-00000000"));
        Assert.Equal(KmsErrorKind.KeyUnavailable, error.Kind);
        Assert.Equal("root key \"kek-20990101-00000000\" is not in the key ring", error.Message);
    }

    [Fact]
    public void Disabled_key_is_refused_and_decrypt_only_key_is_served()
    {
        string retired, decryptOnly;
        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options(_time)))
        {
            retired = keystore.AddKey().Id;
            keystore.Retire(retired);
            decryptOnly = keystore.AddKey().Id;
        }

        using var provider = Load();
        var error = Assert.Throws<KmsException>(() => provider.GetForDecrypt(retired));
        Assert.Equal(KmsErrorKind.KeyUnavailable, error.Kind);
        Assert.Equal($"root key \"{retired}\" is disabled", error.Message);
        Assert.Equal(decryptOnly, provider.GetForDecrypt(decryptOnly).Id);
        Assert.NotEqual(decryptOnly, provider.Primary.Key.Id);
    }

    [Fact]
    public async Task Expired_primary_still_decrypts_but_wraps_nothing_new()
    {
        File.Delete(_path);
        KeystoreFile.Create(_path, Passphrase, Options(_time), primaryExpiresAt: _time.GetUtcNow().AddDays(30)).Dispose();
        using var provider = Load();
        var primary = provider.Primary.Key;
        var wrapped = await primary.WrapAsync(new byte[32], Context, default);

        _time.Advance(TimeSpan.FromDays(30));

        var error = Assert.Throws<KmsException>(() => provider.Primary.Key);
        Assert.Equal(KmsErrorKind.KeyUnavailable, error.Kind);
        Assert.Equal($"root key \"{primary.Id}\" expired at 2025-04-13T15:09:26Z; promote a new root key", error.Message);
        Assert.Equal(32, await provider.GetForDecrypt(primary.Id).UnwrapAsync(wrapped, Context, new byte[32], default));
    }

    [Fact]
    public void Reload_keeps_instances_of_persisting_keys_and_moves_the_primary()
    {
        using var provider = Load();
        var oldPrimary = provider.Primary.Key;

        string added;
        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options(_time)))
        {
            added = keystore.AddKey().Id;
            provider.Reload(keystore);
        }

        Assert.Same(oldPrimary, provider.Primary.Key);
        var addedKey = provider.GetForDecrypt(added);

        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options(_time)))
        {
            keystore.Promote(added);
            provider.Reload(keystore);
        }

        Assert.Same(addedKey, provider.Primary.Key);
        Assert.Same(oldPrimary, provider.GetForDecrypt(oldPrimary.Id));
        Assert.Equal(2, provider.Keys.Count);
    }

    [Fact]
    public void Reload_after_retire_refuses_the_retired_key()
    {
        using var provider = Load();
        var first = provider.Primary.Key.Id;
        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options(_time)))
        {
            keystore.Promote(keystore.AddKey().Id);
            keystore.Retire(first);
            provider.Reload(keystore);
        }

        Assert.Contains("is disabled", Assert.Throws<KmsException>(() => provider.GetForDecrypt(first)).Message);
    }

    [Fact]
    public async Task A_data_key_cached_before_its_root_key_was_retired_opens_nothing_after_the_reload()
    {
        using var provider = Load();
        using var encryptor = new EnvelopeEncryptor(provider, new EnvelopeOptions(), _time);
        var envelope = (await encryptor.EncryptAsync(new byte[32], default)).Ciphertext;
        await encryptor.DecryptAsync(envelope, default);
        var version = provider.KeyRingVersion;

        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options(_time)))
        {
            keystore.Promote(keystore.AddKey().Id);
            keystore.Retire(provider.Primary.Key.Id);
            provider.Reload(keystore);
        }

        Assert.Equal(version + 1, provider.KeyRingVersion);
        var ex = await Assert.ThrowsAsync<KmsException>(async () => await encryptor.DecryptAsync(envelope, default));
        Assert.Contains("is disabled", ex.Message);
    }

    [Fact]
    public async Task Development_provider_works_without_any_file()
    {
        using var provider = KeystoreRootKeyProvider.CreateDevelopment(_time);
        var wrapped = await provider.Primary.Key.WrapAsync(new byte[32], Context, default);
        Assert.Equal(32, await provider.GetForDecrypt(provider.Primary.Key.Id).UnwrapAsync(wrapped, Context, new byte[32], default));
        Assert.Matches("^kek-20250314-[0-9a-f]{8}$", provider.Primary.Key.Id);
    }

    [Fact]
    public void Key_id_carries_the_promotion_generation_so_a_rotation_back_never_reuses_an_id()
    {
        using var provider = Load();
        var a = provider.Primary;
        Assert.Equal($"{a.Key.Id}@1", a.KeyId);

        string b;
        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options(_time)))
        {
            b = keystore.AddKey().Id;
            keystore.Promote(b);
            provider.Reload(keystore);
        }

        Assert.Equal($"{b}@2", provider.Primary.KeyId);

        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options(_time)))
        {
            keystore.Promote(a.Key.Id);
            provider.Reload(keystore);
        }

        var again = provider.Primary;
        Assert.Same(a.Key, again.Key);
        Assert.Equal($"{a.Key.Id}@3", again.KeyId);
        Assert.NotEqual(a, again);

        using var reloaded = Load();
        Assert.Equal(again.KeyId, reloaded.Primary.KeyId);
    }

    [Fact]
    public void A_reload_without_a_promotion_keeps_the_same_primary_value()
    {
        using var provider = Load();
        var before = provider.Primary;
        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options(_time)))
        {
            keystore.AddKey();
            provider.Reload(keystore);
        }

        Assert.Same(before, provider.Primary);
    }

    private KeystoreRootKeyProvider Load()
    {
        using var keystore = KeystoreFile.Load(_path, Passphrase, Options(_time));
        return new KeystoreRootKeyProvider(keystore, _time);
    }
}
