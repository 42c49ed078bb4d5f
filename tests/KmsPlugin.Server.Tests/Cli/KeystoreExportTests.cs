using System.Text.Json;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>`keystore export` and `keystore verify` through the real executable, on real files.</summary>
public sealed class KeystoreExportTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly KeystoreFiles _files = new("the keystore's own passphrase");
    private readonly TempDirectory _escrow = new();
    private readonly string _escrowPassphrase;

    public KeystoreExportTests()
    {
        _files.InitAtMinimumCost();
        _escrowPassphrase = _escrow.File("escrow-passphrase");
        File.WriteAllText(_escrowPassphrase, "the escrow holder's passphrase\n");
        File.SetUnixFileMode(_escrowPassphrase, OwnerOnly);
    }

    public void Dispose()
    {
        _escrow.Dispose();
        _files.Dispose();
    }

    [Fact]
    public async Task The_copy_has_the_same_keys_states_and_generation_under_its_own_passphrase_and_the_keystore_is_untouched()
    {
        // Primary, decrypt-only and disabled keys, generation 2.
        var second = Id(await _files.CliAsync("keystore", "add", "--json"));
        await _files.CliAsync("keystore", "promote", second);
        var third = Id(await _files.CliAsync("keystore", "add", "--json"));
        await _files.CliAsync("keystore", "retire", third);
        var live = BackupDrill.Files(_files.Directory.Path);

        var copy = _escrow.File("escrow.json");
        var exported = await _files.CliAsync("keystore", "export", "--to", copy, "--to-passphrase-file", _escrowPassphrase, "--json");

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(copy));
        Assert.Equal(live, BackupDrill.Files(_files.Directory.Path));
        Assert.Equal(["escrow-passphrase", "escrow.json"], Directory.EnumerateFileSystemEntries(_escrow.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.NotEqual(File.ReadAllBytes(_files.Keystore), File.ReadAllBytes(copy));

        var verifiedCopy = await PluginProcess.RunCliAsync(null, "keystore", "verify", "--keystore", copy, "--passphrase-file", _escrowPassphrase, "--json");
        Assert.True(verifiedCopy.ExitCode == 0, verifiedCopy.ToString());
        var verifiedLive = await _files.CliAsync("keystore", "verify", "--json");
        var copyReport = JsonDocument.Parse(verifiedCopy.Output).RootElement;
        Assert.Equal(2, copyReport.GetProperty("generation").GetInt64());
        Assert.Equal(["primary", "decrypt-only", "disabled"], Keys(copyReport).Select(k => k.State).OrderBy(StateOrder));
        Assert.Equal(Keys(JsonDocument.Parse(verifiedLive.Output).RootElement), Keys(copyReport));
        Assert.Equal(Keys(JsonDocument.Parse(exported.Output).RootElement), Keys(copyReport));

        var listCopy = await PluginProcess.RunCliAsync(null, "keystore", "list", "--keystore", copy, "--passphrase-file", _escrowPassphrase, "--json");
        Assert.Equal((await _files.CliAsync("keystore", "list", "--json")).Output, listCopy.Output);

        // The keystore's passphrase does not open the copy, and the table names every key with its check value.
        var withLivePassphrase = await PluginProcess.RunCliAsync(null, "keystore", "verify", "--keystore", copy, "--passphrase-file", _files.PassphraseFile);
        Assert.Equal(1, withLivePassphrase.ExitCode);
        Assert.Equal($"kms-plugin keystore verify: keystore \"{copy}\": wrong passphrase or the file was modified", withLivePassphrase.Error.TrimEnd());
        var table = await PluginProcess.RunCliAsync(null, "keystore", "verify", "--keystore", copy, "--passphrase-file", _escrowPassphrase);
        Assert.Contains("opens: 3 root keys, promotion generation 2", table.Output);
        Assert.All(Keys(copyReport), k => Assert.Matches($@"{k.Id}\s+{k.State}\s+{k.CheckValue}", table.Output));
    }

    [Fact]
    public async Task Export_refuses_an_existing_file_the_same_passphrase_and_a_missing_passphrase_file()
    {
        var existing = _escrow.File("existing.json");
        await File.WriteAllTextAsync(existing, "keep me");
        File.SetUnixFileMode(existing, OwnerOnly);
        var refused = await PluginProcess.RunCliAsync(null, ["keystore", "export", "--to", existing, "--to-passphrase-file", _escrowPassphrase, .. _files.Args]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal($"kms-plugin keystore export: copy \"{existing}\": something already exists at this path; refusing to overwrite it", refused.Error.TrimEnd());
        Assert.Equal("keep me", await File.ReadAllTextAsync(existing));

        var samePassphrase = await PluginProcess.RunCliAsync(null, ["keystore", "export", "--to", _escrow.File("same.json"), "--to-passphrase-file", _files.PassphraseFile, .. _files.Args]);
        Assert.Equal(1, samePassphrase.ExitCode);
        Assert.Contains("the copy's passphrase is the keystore's own", samePassphrase.Error);
        Assert.False(File.Exists(_escrow.File("same.json")));

        var noCopyPassphrase = await PluginProcess.RunCliAsync(null, ["keystore", "export", "--to", _escrow.File("none.json"), .. _files.Args]);
        Assert.Equal(2, noCopyPassphrase.ExitCode);
        Assert.Equal("kms-plugin keystore export: give --to-passphrase-file, the file holding the copy's own passphrase", noCopyPassphrase.Error.TrimEnd());

        var notKeystore = await PluginProcess.RunCliAsync(null, "keystore", "verify", "--keystore", existing, "--passphrase-file", _escrowPassphrase);
        Assert.Equal(1, notKeystore.ExitCode);
        Assert.StartsWith($"kms-plugin keystore verify: keystore \"{existing}\": not a valid keystore file", notKeystore.Error);
        Assert.Single(notKeystore.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", notKeystore.Error);
    }

    private static string Id(ProcessResult result) => JsonDocument.Parse(result.Output).RootElement[0].GetProperty("id").GetString()!;

    private static int StateOrder(string state) => state switch { "primary" => 0, "decrypt-only" => 1, _ => 2 };

    private static List<(string Id, string State, string CheckValue)> Keys(JsonElement report) =>
        report.GetProperty("keys").EnumerateArray()
            .Select(k => (k.GetProperty("id").GetString()!, k.GetProperty("state").GetString()!, k.GetProperty("keyCheckValue").GetString()!))
            .ToList();
}
