using System.Runtime.Versioning;
using KmsPlugin.Core.Errors;
using static KmsPlugin.Core.Tests.Keystore.KeystoreTestData;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Core.Tests.Keystore;

/// <summary>Atomic replacement and serialised writers.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class KeystoreWriteTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _path;

    public KeystoreWriteTests()
    {
        _path = _temp.File("ks.json");
        KeystoreFile.Create(_path, Passphrase, Options()).Dispose();
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Crash_after_the_temp_file_is_written_leaves_the_old_file_intact()
    {
        var before = File.ReadAllBytes(_path);
        string? tempFile = null;
        var crashing = Options(afterTempFileWritten: t =>
        {
            tempFile = t;

            // The complete new version exists beside the keystore at this point.
            Assert.Equal(Path.GetDirectoryName(_path), Path.GetDirectoryName(t));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(t));
            throw new IOException("simulated crash before rename");
        });

        using (var keystore = KeystoreFile.Load(_path, Passphrase, crashing))
        {
            var error = Assert.Throws<KmsException>(() => keystore.AddKey());
            Assert.Contains("simulated crash before rename", error.Message);
            Assert.Single(keystore.ListKeys());
        }

        Assert.Equal(before, File.ReadAllBytes(_path));
        Assert.NotNull(tempFile);
        Assert.False(File.Exists(tempFile));
        using var reloaded = KeystoreFile.Load(_path, Passphrase, Options());
        Assert.Single(reloaded.ListKeys());
    }

    [Fact]
    public void Stray_temp_files_from_a_crashed_writer_are_ignored()
    {
        // What a writer killed between write and rename leaves: a partial temp file beside the keystore.
        var stray = _temp.File(".ks.json.0123456789ab.tmp");
        File.WriteAllBytes(stray, File.ReadAllBytes(_path)[..40]);

        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options()))
        {
            keystore.AddKey();
        }

        using var reloaded = KeystoreFile.Load(_path, Passphrase, Options());
        Assert.Equal(2, reloaded.ListKeys().Count);
        Assert.True(File.Exists(stray));
    }

    [Fact]
    public void Only_the_keystore_and_its_lock_file_remain_after_changes()
    {
        using (var keystore = KeystoreFile.Load(_path, Passphrase, Options()))
        {
            var added = keystore.AddKey();
            keystore.Promote(added.Id);
        }

        Assert.Equal(["ks.json", "ks.json.lock"], Directory.GetFiles(_temp.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Concurrent_writers_from_separately_loaded_keystores_keep_every_key()
    {
        const int writers = 4;
        const int keysEach = 5;
        var keystores = Enumerable.Range(0, writers).Select(_ => KeystoreFile.Load(_path, Passphrase, Options())).ToArray();
        try
        {
            var added = new List<string>[writers];
            using var start = new Barrier(writers);
            var threads = Enumerable.Range(0, writers).Select(w => new Thread(() =>
            {
                added[w] = [];
                start.SignalAndWait();
                for (var i = 0; i < keysEach; i++)
                {
                    added[w].Add(keystores[w].AddKey().Id);
                }
            })).ToArray();
            foreach (var thread in threads)
            {
                thread.Start();
            }

            foreach (var thread in threads)
            {
                thread.Join();
            }

            using var reloaded = KeystoreFile.Load(_path, Passphrase, Options());
            var ids = reloaded.ListKeys().Select(k => k.Id).ToHashSet();
            Assert.Equal(1 + (writers * keysEach), ids.Count);
            Assert.All(added.SelectMany(a => a), id => Assert.Contains(id, ids));

            // Each writer reloaded under the lock, so its in-memory view includes the others' keys too.
            Assert.Contains(keystores, k => k.ListKeys().Count == ids.Count);
        }
        finally
        {
            foreach (var keystore in keystores)
            {
                keystore.Dispose();
            }
        }
    }

    [Fact]
    public void A_change_while_another_process_holds_the_lock_waits_then_gives_up_clearly()
    {
        using var held = new FileStream(_path + ".lock", FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        using var keystore = KeystoreFile.Load(_path, Passphrase, Options(lockTimeout: TimeSpan.FromMilliseconds(200)));

        var error = Assert.Throws<KmsException>(() => keystore.AddKey());
        Assert.Equal(KmsErrorKind.ProviderUnavailable, error.Kind);
        Assert.Contains("is being changed by another process", error.Message);
    }

    [Fact]
    public void A_change_waits_for_another_process_holding_the_lock()
    {
        // util-linux flock(1) takes the same flock(2) lock that .NET's FileShare.None takes.
        Assert.True(File.Exists("/usr/bin/flock"), "this test needs /usr/bin/flock (util-linux)");
        using var keystore = KeystoreFile.Load(_path, Passphrase, Options());
        var released = _temp.File("released");
        using var holder = System.Diagnostics.Process.Start("/usr/bin/flock", ["--exclusive", _path + ".lock", "sh", "-c", $"sleep 1; touch '{released}'"])!;
        try
        {
            WaitUntilLockedByAnother(_path + ".lock", holder);

            keystore.AddKey();

            // The holder touches the file just before it lets go of the lock.
            Assert.True(File.Exists(released), "the change went through while another process held the lock");
            Assert.True(holder.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Equal(0, holder.ExitCode);
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill();
            }
        }

        using var reloaded = KeystoreFile.Load(_path, Passphrase, Options());
        Assert.Equal(2, reloaded.ListKeys().Count);
    }

    [Fact]
    public void Loading_does_not_need_the_lock()
    {
        using var held = new FileStream(_path + ".lock", FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        using var keystore = KeystoreFile.Load(_path, Passphrase, Options());
        Assert.Single(keystore.ListKeys());
    }

    [Fact]
    public void A_keystore_replaced_with_another_passphrase_is_not_overwritten()
    {
        using var keystore = KeystoreFile.Load(_path, Passphrase, Options());
        File.Delete(_path);
        KeystoreFile.Create(_path, "another passphrase"u8, Options()).Dispose();
        var replaced = File.ReadAllBytes(_path);

        var error = Assert.Throws<KmsException>(() => keystore.AddKey());
        Assert.Contains("re-created with a different passphrase", error.Message);
        Assert.Equal(replaced, File.ReadAllBytes(_path));
    }

    private static void WaitUntilLockedByAnother(string lockPath, System.Diagnostics.Process holder)
    {
        while (true)
        {
            Assert.False(holder.HasExited, "flock exited before the test saw it hold the lock");
            try
            {
                using (new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                }

                Thread.Sleep(10);
            }
            catch (IOException)
            {
                return;
            }
        }
    }
}
