using System.Runtime.Versioning;
using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.RootKeys.Keystore;
using static KmsPlugin.Core.Tests.Keystore.KeystoreTestData;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Core.Tests.Keystore;

[UnsupportedOSPlatform("windows")]
public sealed class KeystoreFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Create_then_load_round_trips_every_key_and_its_material()
    {
        var path = _temp.File("keystore.json");
        byte[][] created;
        IReadOnlyList<KeystoreKeyInfo> createdInfos;
        using (var keystore = KeystoreFile.Create(path, Passphrase, Options()))
        {
            keystore.AddKey(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
            var third = keystore.AddKey();
            keystore.Promote(third.Id);
            createdInfos = keystore.ListKeys();
            created = keystore.WithRing(r => r.Entries.Select(e => e.Material.ToArray()).ToArray());
        }

        using var loaded = KeystoreFile.Load(path, Passphrase, Options());
        Assert.Equal(createdInfos, loaded.ListKeys());
        Assert.Equal(created, loaded.WithRing(r => r.Entries.Select(e => e.Material.ToArray()).ToArray()));
        Assert.Equal(3, created.Distinct(new BytesComparer()).Count());
        Assert.Equal(KeyState.Primary, loaded.ListKeys()[2].State);
    }

    [Fact]
    public void A_new_keystore_has_one_primary_key_with_a_well_formed_id()
    {
        using var keystore = KeystoreFile.Create(_temp.File("ks.json"), Passphrase, Options());
        var key = Assert.Single(keystore.ListKeys());
        Assert.Equal(KeyState.Primary, key.State);
        Assert.Matches("^kek-20250314-[0-9a-f]{8}$", key.Id);
        Assert.Equal(new DateTimeOffset(2025, 3, 14, 15, 9, 26, TimeSpan.Zero), key.CreatedAt);
        Assert.Null(key.ExpiresAt);
    }

    [Fact]
    public void Created_keystore_and_lock_file_have_mode_0600()
    {
        var path = _temp.File("ks.json");
        using var keystore = KeystoreFile.Create(path, Passphrase, Options());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path + ".lock"));

        keystore.AddKey();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Create_refuses_an_existing_file_and_leaves_it_alone()
    {
        var path = _temp.File("ks.json");
        File.WriteAllText(path, "not mine");
        var error = Assert.Throws<KmsException>(() => KeystoreFile.Create(path, Passphrase, Options()));
        Assert.Contains("refusing to overwrite", error.Message);
        Assert.Equal("not mine", File.ReadAllText(path));
    }

    [Fact]
    public void Create_refuses_weak_kdf_parameters_outside_tests()
    {
        var options = new KeystoreOptions { Kdf = CheapKdf };
        var error = Assert.Throws<ArgumentException>(() => KeystoreFile.Create(_temp.File("ks.json"), Passphrase, options));
        Assert.Contains("below the minimum", error.Message);
        Assert.False(File.Exists(_temp.File("ks.json")));
    }

    [Fact]
    public void Load_refuses_a_file_with_weak_kdf_parameters_outside_tests()
    {
        var path = _temp.File("ks.json");
        KeystoreFile.Create(path, Passphrase, Options()).Dispose();
        var error = Assert.Throws<KmsException>(() => KeystoreFile.Load(path, Passphrase));
        Assert.Equal(KmsErrorKind.ProviderUnavailable, error.Kind);
        Assert.Contains("below the minimum", error.Message);
    }

    [Fact]
    public void Default_kdf_parameters_create_and_load()
    {
        var path = _temp.File("ks.json");
        string id;
        using (var keystore = KeystoreFile.Create(path, Passphrase))
        {
            id = keystore.PrimaryKey.Id;
        }

        Assert.Contains("\"memoryKiB\": 65536", File.ReadAllText(path));
        using var loaded = KeystoreFile.Load(path, Passphrase);
        Assert.Equal(id, loaded.PrimaryKey.Id);
    }

    [Fact]
    public void Wrong_passphrase_is_a_clear_provider_error()
    {
        var path = _temp.File("ks.json");
        KeystoreFile.Create(path, Passphrase, Options()).Dispose();
        var error = Assert.Throws<KmsException>(() => KeystoreFile.Load(path, "correct horse battery stapler"u8, Options()));
        Assert.Equal(KmsErrorKind.ProviderUnavailable, error.Kind);
        Assert.Equal($"keystore \"{path}\": wrong passphrase or the file was modified", error.Message);
    }

    [Fact]
    public void Empty_passphrase_is_refused()
    {
        var error = Assert.Throws<KmsException>(() => KeystoreFile.Create(_temp.File("ks.json"), ReadOnlySpan<byte>.Empty, Options()));
        Assert.Contains("passphrase is empty", error.Message);
    }

    [Fact]
    public void Missing_file_is_reported_with_its_path()
    {
        var path = _temp.File("absent.json");
        var error = Assert.Throws<KmsException>(() => KeystoreFile.Load(path, Passphrase, Options()));
        Assert.Equal($"keystore \"{path}\": the file does not exist", error.Message);
    }

    [Theory]
    [InlineData(UnixFileMode.GroupRead, "0640")]
    [InlineData(UnixFileMode.GroupWrite, "0620")]
    [InlineData(UnixFileMode.OtherRead, "0604")]
    [InlineData(UnixFileMode.OtherWrite, "0602")]
    [InlineData(UnixFileMode.GroupRead | UnixFileMode.OtherRead, "0644")]
    public void Files_that_group_or_others_may_access_are_refused(UnixFileMode extra, string octal)
    {
        var path = _temp.File("ks.json");
        KeystoreFile.Create(path, Passphrase, Options()).Dispose();
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);

        var error = Assert.Throws<KmsException>(() => KeystoreFile.Load(path, Passphrase, Options()));
        Assert.Equal(KmsErrorKind.ProviderUnavailable, error.Kind);
        Assert.Contains(path, error.Message);
        Assert.Contains(octal, error.Message);
        Assert.Contains("chmod 600", error.Message);
    }

    [Fact]
    public void Owner_read_only_file_loads()
    {
        var path = _temp.File("ks.json");
        KeystoreFile.Create(path, Passphrase, Options()).Dispose();
        File.SetUnixFileMode(path, UnixFileMode.UserRead);
        using var keystore = KeystoreFile.Load(path, Passphrase, Options());
        Assert.Single(keystore.ListKeys());
    }

    [Fact]
    public void Changes_through_a_symlink_replace_the_target_and_keep_the_link()
    {
        var real = _temp.File("real.json");
        var link = _temp.File("link.json");
        KeystoreFile.Create(real, Passphrase, Options()).Dispose();
        File.CreateSymbolicLink(link, real);

        using (var keystore = KeystoreFile.Load(link, Passphrase, Options()))
        {
            keystore.AddKey();
        }

        Assert.NotNull(new FileInfo(link).LinkTarget);
        using var loaded = KeystoreFile.Load(real, Passphrase, Options());
        Assert.Equal(2, loaded.ListKeys().Count);
    }

    [Fact]
    public void Errors_never_contain_the_passphrase()
    {
        var path = _temp.File("ks.json");
        KeystoreFile.Create(path, Passphrase, Options()).Dispose();
        var wrong = "hunter2-very-secret"u8.ToArray();
        var error = Assert.Throws<KmsException>(() => KeystoreFile.Load(path, wrong, Options()));
        Assert.DoesNotContain("hunter2", error.ToString());
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length == 0 ? 0 : obj[0];
    }
}
