using System.Text.Json;
using Google.Protobuf;
using KmsPlugin.Protocol.V2;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>
/// A stale keystore copy (a backup, a node that missed a promotion) dropped over the file must not
/// move the running plugin back to an older primary; `keystore rollback` is the explicit way back.
/// </summary>
public sealed class KeystoreRollbackTests : IDisposable
{
    private readonly KeystoreFiles _files = new("rollback test passphrase");

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task A_stale_copy_is_refused_with_both_generations_and_keystore_rollback_takes_it_on_purpose()
    {
        await _files.CliAsync("keystore", "init");
        var backup = _files.Directory.File("keystore.backup.json");
        File.Copy(_files.Keystore, backup);
        File.SetUnixFileMode(backup, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using var plugin = await PluginProcess.StartAsync(_files.Directory.File("kms.sock"), null, _files.Args);
        var first = (await plugin.V2.StatusAsync(new StatusRequest())).KeyId;
        var rootA = first[..first.IndexOf('@')];
        var underA = await plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFromUtf8("under A"), Uid = "u1" });

        var rootB = JsonDocument.Parse((await _files.CliAsync("keystore", "add", "--json")).Output).RootElement[0].GetProperty("id").GetString()!;
        await _files.CliAsync("keystore", "promote", rootB);
        await plugin.WaitForKeyIdAsync($"{rootB}@2");

        // The stale copy arrives the way an operator's cp or a config-management run would write it.
        File.Copy(backup, _files.Keystore, overwrite: true);
        await plugin.WaitForLogAsync("refusing a rollback");
        Assert.Contains(
            $"refusing a rollback: the file is at promotion generation 1 (primary \"{rootA}\"), older than the running generation 2 (primary \"{rootB}\"); " +
            "the running key ring is kept; if going back is intended, run `kms-plugin keystore rollback 2` on the file",
            plugin.Log);
        Assert.Contains("root key reload failed; the running key ring is unchanged", plugin.Log);
        Assert.Equal($"{rootB}@2", (await plugin.V2.StatusAsync(new StatusRequest())).KeyId);
        Assert.Equal($"{rootB}@2", (await plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFromUtf8("x"), Uid = "u2" })).KeyId);

        await _files.CliAsync("keystore", "rollback", "2");
        await plugin.WaitForKeyIdAsync($"{rootA}@3");
        var decrypted = await plugin.V2.DecryptAsync(new DecryptRequest { Ciphertext = underA.Ciphertext, KeyId = underA.KeyId, Uid = "u3" });
        Assert.Equal("under A", decrypted.Plaintext.ToStringUtf8());
        Assert.Equal($"{rootA}@3", (await plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFromUtf8("y"), Uid = "u4" })).KeyId);
    }

    [Fact]
    public async Task Rollback_refuses_a_generation_the_file_is_already_above_and_bad_numbers_with_one_line()
    {
        await _files.CliAsync("keystore", "init");
        var added = JsonDocument.Parse((await _files.CliAsync("keystore", "add", "--json")).Output).RootElement[0].GetProperty("id").GetString()!;
        await _files.CliAsync("keystore", "promote", added);
        var before = await File.ReadAllBytesAsync(_files.Keystore);
        foreach (var (argument, expected) in new[]
        {
            ("1", "the keystore is at promotion generation 2, already above 1; running plugins take it without a rollback"),
            ("0", "running generation \"0\" is not a whole number of at least 1"),
            ("two", "running generation \"two\" is not a whole number of at least 1"),
        })
        {
            var result = await PluginProcess.RunCliAsync(null, ["keystore", "rollback", argument, .. _files.Args]);
            Assert.Equal(1, result.ExitCode);
            Assert.Equal($"kms-plugin keystore rollback: {expected}", result.Error.Trim());
        }

        Assert.Equal(before, await File.ReadAllBytesAsync(_files.Keystore));
    }
}
