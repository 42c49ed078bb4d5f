using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;
using Microsoft.Extensions.Time.Testing;
using static KmsPlugin.Core.Tests.Keystore.KeystoreTestData;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Core.Tests.Keystore;

public sealed class KeystoreRotationTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 14, 15, 9, 26, TimeSpan.Zero));
    private readonly string _path;
    private readonly KeystoreFile _keystore;

    public KeystoreRotationTests()
    {
        _path = _temp.File("ks.json");
        _keystore = KeystoreFile.Create(_path, Passphrase, Options(_time));
    }

    public void Dispose()
    {
        _keystore.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public void Added_key_is_decrypt_only_and_the_primary_stays()
    {
        var primary = _keystore.PrimaryKey;
        var added = _keystore.AddKey();

        Assert.Equal(KeyState.DecryptOnly, added.State);
        Assert.Equal(primary, _keystore.PrimaryKey);
        Assert.Equal([primary.Id, added.Id], StatesOnDisk().Select(k => k.Id));
        Assert.Equal([KeyState.Primary, KeyState.DecryptOnly], StatesOnDisk().Select(k => k.State));
    }

    [Fact]
    public void Promote_makes_the_key_primary_and_the_old_primary_decrypt_only()
    {
        var old = _keystore.PrimaryKey;
        var added = _keystore.AddKey();

        var promoted = _keystore.Promote(added.Id);

        Assert.Equal(KeyState.Primary, promoted.State);
        Assert.Equal(added.Id, _keystore.PrimaryKey.Id);
        var onDisk = StatesOnDisk().ToDictionary(k => k.Id, k => k.State);
        Assert.Equal(KeyState.DecryptOnly, onDisk[old.Id]);
        Assert.Equal(KeyState.Primary, onDisk[added.Id]);
    }

    [Fact]
    public void Promoting_the_primary_changes_nothing()
    {
        var before = File.ReadAllBytes(_path);
        _keystore.Promote(_keystore.PrimaryKey.Id);
        Assert.Equal(before, File.ReadAllBytes(_path));
    }

    [Fact]
    public void Retire_disables_a_decrypt_only_key_and_enable_brings_it_back()
    {
        var added = _keystore.AddKey();

        Assert.Equal(KeyState.Disabled, _keystore.Retire(added.Id).State);
        Assert.Equal(KeyState.Disabled, StatesOnDisk().Single(k => k.Id == added.Id).State);

        Assert.Equal(KeyState.DecryptOnly, _keystore.Enable(added.Id).State);
        Assert.Equal(KeyState.DecryptOnly, StatesOnDisk().Single(k => k.Id == added.Id).State);
    }

    [Fact]
    public void Retiring_the_primary_is_refused()
    {
        var primary = _keystore.PrimaryKey.Id;
        var error = Assert.Throws<KmsException>(() => _keystore.Retire(primary));
        Assert.Equal(KmsErrorKind.KeyUnavailable, error.Kind);
        Assert.Equal($"root key \"{primary}\" is the primary; promote another root key first", error.Message);
        Assert.Equal(KeyState.Primary, StatesOnDisk().Single().State);
    }

    [Fact]
    public void Promoting_a_disabled_key_is_refused_with_the_way_out()
    {
        var added = _keystore.AddKey();
        _keystore.Retire(added.Id);

        var error = Assert.Throws<KmsException>(() => _keystore.Promote(added.Id));
        Assert.Equal(KmsErrorKind.KeyUnavailable, error.Kind);
        Assert.Equal($"root key \"{added.Id}\" is disabled; enable it first, then promote it", error.Message);

        _keystore.Enable(added.Id);
        Assert.Equal(KeyState.Primary, _keystore.Promote(added.Id).State);
    }

    [Fact]
    public void Promoting_an_expired_key_is_refused()
    {
        var added = _keystore.AddKey(_time.GetUtcNow().AddDays(1));
        _time.Advance(TimeSpan.FromDays(1));

        var error = Assert.Throws<KmsException>(() => _keystore.Promote(added.Id));
        Assert.Equal($"root key \"{added.Id}\" expired at 2025-03-15T15:09:26Z and cannot become primary", error.Message);
        Assert.Equal(KeyState.DecryptOnly, StatesOnDisk().Single(k => k.Id == added.Id).State);
    }

    [Fact]
    public void Expiry_must_be_in_the_future()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _keystore.AddKey(_time.GetUtcNow()));
        Assert.Single(StatesOnDisk());
    }

    [Fact]
    public void Unknown_ids_are_refused_by_every_verb()
    {
        Assert.Equal(KmsErrorKind.KeyUnavailable, Assert.Throws<KmsException>(() => _keystore.Promote("kek-nope")).Kind);
        Assert.Equal("root key \"kek-nope\" is not in the key ring", Assert.Throws<KmsException>(() => _keystore.Retire("kek-nope")).Message);
        Assert.Throws<KmsException>(() => _keystore.Enable("kek-nope"));
    }

    [Fact]
    public void Ids_are_unique_across_many_keys_and_after_reload()
    {
        for (var i = 0; i < 50; i++)
        {
            _keystore.AddKey();
        }

        var ids = StatesOnDisk().Select(k => k.Id).ToList();
        Assert.Equal(51, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches("^kek-20250314-[0-9a-f]{8}$", id));
    }

    [Fact]
    public void A_full_rotation_keeps_every_key_and_exactly_one_primary()
    {
        var first = _keystore.PrimaryKey.Id;
        var second = _keystore.AddKey().Id;
        _keystore.Promote(second);
        _keystore.Retire(first);
        var third = _keystore.AddKey().Id;
        _keystore.Promote(third);

        var onDisk = StatesOnDisk();
        Assert.Equal([first, second, third], onDisk.Select(k => k.Id));
        Assert.Equal([KeyState.Disabled, KeyState.DecryptOnly, KeyState.Primary], onDisk.Select(k => k.State));
    }

    [Fact]
    public void In_memory_keystore_follows_the_same_rules_without_touching_disk()
    {
        using var dev = KeystoreFile.CreateInMemory(Options(_time));
        Assert.True(dev.IsInMemory);
        var added = dev.AddKey();
        dev.Promote(added.Id);
        Assert.Equal(added.Id, dev.PrimaryKey.Id);
        Assert.Throws<KmsException>(() => dev.Retire(added.Id));
        Assert.Equal(2, dev.ListKeys().Count);
    }

    private IReadOnlyList<KeystoreKeyInfo> StatesOnDisk()
    {
        using var loaded = KeystoreFile.Load(_path, Passphrase, Options(_time));
        return loaded.ListKeys();
    }
}
