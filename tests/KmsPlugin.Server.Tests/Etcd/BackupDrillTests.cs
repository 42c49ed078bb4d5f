using System.Text.Json;
using dotnet_etcd;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Etcd;

/// <summary>
/// Issue 17's drill with a keystore: a real plugin process writes Secrets into a real etcd through
/// the kube-apiserver stand-in; a copy of the keystore taken before a rotation is then checked
/// against etcd by `etcd verify` with no plugin, as an operator would from a bastion.
/// </summary>
public sealed class BackupDrillTests : IAsyncLifetime
{
    private const int PerRootKey = 300;

    private readonly KeystoreFiles _files = new("backup drill passphrase");
    private readonly TempDirectory _backup = new();
    private readonly TempDirectory _escrow = new();
    private EtcdServer _etcd = null!;
    private EtcdClient _client = null!;

    public async Task InitializeAsync()
    {
        _etcd = await EtcdServer.StartAsync();
        _client = new EtcdClient(_etcd.Endpoint);
        _files.InitAtMinimumCost();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _etcd.DisposeAsync();
        _backup.Dispose();
        _escrow.Dispose();
        _files.Dispose();
    }

    [Fact]
    public async Task A_backup_taken_before_the_rotation_misses_exactly_the_values_under_the_new_root_key()
    {
        var socket = _files.Directory.File("kms.sock");
        await using var plugin = await PluginProcess.StartAsync(socket, null, _files.Args);
        using var channel = UnixSocketClient.Create(socket);
        var rootA = (await plugin.V2.StatusAsync(new Protocol.V2.StatusRequest())).KeyId.Split('@')[0];
        await BackupDrill.WriteSecretsAsync(_client, channel, "before", PerRootKey);

        // The operator's backup: the keystore file and its passphrase file, copied as they are.
        var backupKeystore = _backup.File("keystore.json");
        var backupPassphrase = _backup.File("passphrase");
        File.Copy(_files.Keystore, backupKeystore);
        File.Copy(_files.PassphraseFile, backupPassphrase);

        var rootB = JsonDocument.Parse((await _files.CliAsync("keystore", "add", "--json")).Output).RootElement[0].GetProperty("id").GetString()!;
        await _files.CliAsync("keystore", "promote", rootB);
        await plugin.WaitForKeyIdAsync($"{rootB}@2");
        var underB = await BackupDrill.WriteSecretsAsync(_client, channel, "after", PerRootKey);

        var revision = await BackupDrill.RevisionAsync(_client);
        var backupFiles = BackupDrill.Files(_backup.Path);
        var liveFiles = BackupDrill.Files(_files.Directory.Path);

        var stale = await BackupDrill.VerifyJsonAsync(null, _etcd.Endpoint, 1, "--keystore", backupKeystore, "--passphrase-file", backupPassphrase);
        BackupDrill.AssertBackupCannotRead(stale, underB, missingRootKey: rootB, presentRootKey: rootA, readable: PerRootKey);
        Assert.Equal($"keystore \"{backupKeystore}\"", stale.GetProperty("backup").GetString());

        var table = await PluginProcess.RunCliAsync(null, "etcd", "verify", "--endpoints", _etcd.Endpoint, "--keystore", backupKeystore, "--passphrase-file", backupPassphrase, "--decrypt-check");
        Assert.Equal(1, table.ExitCode);
        Assert.Contains($"!!! THIS BACKUP CANNOT READ {PerRootKey} values", table.Output);
        Assert.Contains($"!!!   root key {rootB}: {PerRootKey} values", table.Output);
        Assert.Matches($@"{rootB}\s+{PerRootKey}\s+MISSING FROM THIS BACKUP", table.Output);
        Assert.Matches($@"{rootA}\s+{PerRootKey}\s+in the backup", table.Output);

        var current = await BackupDrill.VerifyJsonAsync(null, _etcd.Endpoint, 0, _files.Args);
        BackupDrill.AssertReadsEverything(current, 2 * PerRootKey);

        // The escrow copy, under its own passphrase, reads everything too and lists the same keys.
        var escrowPassphrase = _escrow.File("escrow-passphrase");
        await File.WriteAllTextAsync(escrowPassphrase, "the escrow holder's own passphrase\n");
        File.SetUnixFileMode(escrowPassphrase, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var escrowKeystore = _escrow.File("escrow.json");
        var exported = await _files.CliAsync("keystore", "export", "--to", escrowKeystore, "--to-passphrase-file", escrowPassphrase, "--json");
        var escrow = await BackupDrill.VerifyJsonAsync(null, _etcd.Endpoint, 0, "--keystore", escrowKeystore, "--passphrase-file", escrowPassphrase);
        BackupDrill.AssertReadsEverything(escrow, 2 * PerRootKey);
        var live = await _files.CliAsync("keystore", "verify", "--json");
        Assert.Equal(Keys(live.Output), Keys(exported.Output));

        Assert.Equal(revision, await BackupDrill.RevisionAsync(_client));
        Assert.Equal(backupFiles, BackupDrill.Files(_backup.Path));
        Assert.Equal(liveFiles, BackupDrill.Files(_files.Directory.Path));
    }

    [Fact]
    public async Task A_wrong_passphrase_or_a_file_that_is_no_keystore_gets_one_line_and_exit_2()
    {
        var wrong = _backup.File("wrong-passphrase");
        await File.WriteAllTextAsync(wrong, "not the passphrase\n");
        File.SetUnixFileMode(wrong, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var notKeystore = _backup.File("notes.json");
        await File.WriteAllTextAsync(notKeystore, "{\"hello\": \"world\"}\n");
        File.SetUnixFileMode(notKeystore, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var cases = new (string[] Args, string Expected)[]
        {
            (["--keystore", _files.Keystore, "--passphrase-file", wrong], $"kms-plugin etcd verify: keystore \"{_files.Keystore}\": wrong passphrase or the file was modified"),
            (["--keystore", notKeystore, "--passphrase-file", _files.PassphraseFile], $"kms-plugin etcd verify: keystore \"{notKeystore}\": not a valid keystore file"),
            (["--keystore", _backup.File("absent.json"), "--passphrase-file", _files.PassphraseFile], "does not exist"),
            (["--passphrase-file", _files.PassphraseFile], "kms-plugin etcd verify: the backup's root keys: give --keystore and --passphrase-file"),
            ([.. _files.Args, "--socket", _files.Directory.File("kms.sock")], "not both"),
        };
        foreach (var (args, expected) in cases)
        {
            var result = await PluginProcess.RunCliAsync(null, ["etcd", "verify", "--endpoints", _etcd.Endpoint, "--decrypt-check", .. args]);
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Contains(expected, result.Error);
            Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal("", result.Output);
            Assert.DoesNotContain("   at ", result.Error);
        }
    }

    private static string Keys(string json) => JsonDocument.Parse(json).RootElement.GetProperty("keys").ToString() + JsonDocument.Parse(json).RootElement.GetProperty("generation");
}
