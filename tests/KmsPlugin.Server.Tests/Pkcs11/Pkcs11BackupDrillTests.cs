using dotnet_etcd;
using KmsPlugin.RootKeys.Pkcs11.Tests.Support;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Pkcs11;

/// <summary>
/// Issue 17's drill on an HSM: the backup token is a copy of the SoftHSM token directory taken before
/// the rotation (what an HSM vendor's backup restores to), read through PKCS#11 by `etcd verify` with
/// serve's own --pkcs11-* settings and no plugin.
/// </summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11BackupDrillTests : IAsyncLifetime
{
    private const int PerRootKey = 300;

    private readonly TempDirectory _dir = new();
    private readonly TempDirectory _backup = new();
    private EtcdServer _etcd = null!;
    private EtcdClient _client = null!;

    public async Task InitializeAsync()
    {
        _etcd = await EtcdServer.StartAsync();
        _client = new EtcdClient(_etcd.Endpoint);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _etcd.DisposeAsync();
        _backup.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_backup_token_from_before_the_rotation_misses_exactly_the_values_under_the_new_key()
    {
        var token = SoftHsm.CreateToken().WithKeys(true, "first");
        var pinFile = _dir.File("pin");
        await File.WriteAllTextAsync(pinFile, token.Pin + "\n");
        File.SetUnixFileMode(pinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var socket = _dir.File("kms.sock");
        string[] pin = ["--pkcs11-pin-file", pinFile];

        await using (var plugin = await PluginProcess.StartAsync(socket, SoftHsm.Environment, [.. Token(token, "first"), .. pin]))
        {
            using var channel = UnixSocketClient.Create(socket);
            await BackupDrill.WriteSecretsAsync(_client, channel, "before", PerRootKey);
            Assert.Equal(0, await plugin.TerminateAsync());
        }

        var backupEnvironment = CopyTokenDirectory(token);
        var keygen = await PluginProcess.RunCliAsync(SoftHsm.Environment, "pkcs11", "keygen", "--module", SoftHsm.ModulePath, "--token", token.Label, "--pin-file", pinFile, "--label", "second");
        Assert.True(keygen.ExitCode == 0, keygen.ToString());
        var promote = await PluginProcess.RunCliAsync(SoftHsm.Environment, "pkcs11", "promote", "--module", SoftHsm.ModulePath, "--token", token.Label, "--pin-file", pinFile, "--label", "second");
        Assert.True(promote.ExitCode == 0, promote.ToString());

        IReadOnlyList<string> underSecond;
        await using (var plugin = await PluginProcess.StartAsync(socket, SoftHsm.Environment, [.. Token(token, "second"), "--pkcs11-decrypt-key", "first", .. pin]))
        {
            using var channel = UnixSocketClient.Create(socket);
            underSecond = await BackupDrill.WriteSecretsAsync(_client, channel, "after", PerRootKey);
        }

        var revision = await BackupDrill.RevisionAsync(_client);
        var backupFiles = BackupDrill.Files(_backup.Path);

        var stale = await BackupDrill.VerifyJsonAsync(backupEnvironment, _etcd.Endpoint, 1, [.. Token(token, "first"), .. pin]);
        BackupDrill.AssertBackupCannotRead(stale, underSecond, missingRootKey: "p11-second", presentRootKey: "p11-first", readable: PerRootKey);
        Assert.Equal($"PKCS#11 token \"{token.Label}\"", stale.GetProperty("backup").GetString());

        // Asking the backup token for a key it never had is a configuration problem, not a finding.
        var missingKey = await PluginProcess.RunCliAsync(backupEnvironment, ["etcd", "verify", "--endpoints", _etcd.Endpoint, .. Token(token, "first"), "--pkcs11-decrypt-key", "second", .. pin]);
        Assert.True(missingKey.ExitCode == 2, missingKey.ToString());
        Assert.Contains("no AES key labelled \"second\"", missingKey.Error);

        var current = await BackupDrill.VerifyJsonAsync(SoftHsm.Environment, _etcd.Endpoint, 0, [.. Token(token, "second"), "--pkcs11-decrypt-key", "first", .. pin]);
        BackupDrill.AssertReadsEverything(current, 2 * PerRootKey);

        Assert.Equal(revision, await BackupDrill.RevisionAsync(_client));
        // SoftHSM rewrites its own token.object (and touches generation and the .lock files) at every
        // C_Login, even for `pkcs11 list`; the objects on the token, the keys, must not change at all.
        var after = BackupDrill.Files(_backup.Path);
        Assert.Equal(backupFiles.Keys, after.Keys);
        Assert.Equal(KeyObjects(backupFiles), KeyObjects(after));
        Assert.NotEmpty(KeyObjects(after));
        Assert.DoesNotContain(token.Pin, stale.ToString() + current);
    }

    private static IEnumerable<KeyValuePair<string, (string, DateTime)>> KeyObjects(IReadOnlyDictionary<string, (string, DateTime)> files) =>
        files.Where(f => f.Key.EndsWith(".object", StringComparison.Ordinal) && Path.GetFileName(f.Key) != "token.object");

    private static string[] Token(SoftHsmToken token, string key) =>
        ["--provider", "pkcs11", "--pkcs11-module", SoftHsm.ModulePath, "--pkcs11-token", token.Label, "--pkcs11-key", key];

    /// <summary>The backup: the token's directory copied file by file under a SoftHSM configuration of its own.</summary>
    private Dictionary<string, string> CopyTokenDirectory(SoftHsmToken token)
    {
        var tokens = Path.Combine(_backup.Path, "tokens");
        var copy = Path.Combine(tokens, Path.GetFileName(token.Directory));
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.EnumerateFiles(token.Directory))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        var config = _backup.File("softhsm2.conf");
        File.WriteAllText(config, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
        return new Dictionary<string, string> { [SoftHsm.ConfigVariable] = config };
    }
}
