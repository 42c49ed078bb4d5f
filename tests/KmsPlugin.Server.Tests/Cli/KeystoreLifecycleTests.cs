using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using KmsPlugin.Core.Envelope;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>
/// Durability as an operator meets it: the real executable, a real keystore file, restarts,
/// rotation with the CLI verbs, and two plugin processes sharing one keystore.
/// </summary>
public sealed class KeystoreLifecycleTests : IDisposable
{
    private readonly KeystoreFiles _files = new("correct horse battery staple");
    private readonly TempDirectory _dir;
    private readonly string _keystore;

    public KeystoreLifecycleTests()
    {
        _dir = _files.Directory;
        _keystore = _files.Keystore;
    }

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Ciphertexts_survive_restart_and_rotation_and_new_ones_carry_the_new_key_id()
    {
        var firstId = Assert.Single(await KeystoreAsync("init", "--json")).Id;

        var socket = _dir.File("kms.sock");
        var plugin = await PluginProcess.StartAsync(socket, null, KeystoreArgs());
        var before = await EncryptManyAsync(plugin, 50);
        Assert.All(before, c => Assert.Equal(firstId, EnvelopeEncryptor.ReadRootKeyId(c.Cipher)));
        Assert.Equal(0, await plugin.TerminateAsync());
        Assert.False(PluginProcess.Connectable(socket));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path, "kms.sock"));
        await plugin.DisposeAsync();

        var added = Assert.Single(await KeystoreAsync("add", "--json"));
        Assert.Equal("decrypt-only", added.State);
        var keys = await KeystoreAsync("promote", added.Id, "--json");
        Assert.Equal("primary", keys.Single(k => k.Id == added.Id).State);
        Assert.Equal("decrypt-only", keys.Single(k => k.Id == firstId).State);

        await using var restarted = await PluginProcess.StartAsync(socket, null, KeystoreArgs());
        await AssertDecryptsAsync(restarted, before);
        var after = await EncryptManyAsync(restarted, 10);
        Assert.All(after, c => Assert.Equal(added.Id, EnvelopeEncryptor.ReadRootKeyId(c.Cipher)));
        Assert.Equal(0, await restarted.TerminateAsync());
    }

    [Fact]
    public async Task Two_processes_sharing_one_keystore_decrypt_each_others_ciphertexts()
    {
        await KeystoreAsync("init");
        await using var a = await PluginProcess.StartAsync(_dir.File("a.sock"), null, KeystoreArgs());
        await using var b = await PluginProcess.StartAsync(_dir.File("b.sock"), null, KeystoreArgs());

        await AssertDecryptsAsync(b, await EncryptManyAsync(a, 20));
        await AssertDecryptsAsync(a, await EncryptManyAsync(b, 20));
    }

    [Fact]
    public async Task The_passphrase_can_come_from_the_environment()
    {
        await KeystoreAsync("init");
        var environment = new Dictionary<string, string> { ["KMS_PLUGIN_PASSPHRASE"] = "correct horse battery staple" };
        await using var plugin = await PluginProcess.StartAsync(_dir.File("kms.sock"), environment, "--keystore", _keystore);
        await AssertDecryptsAsync(plugin, await EncryptManyAsync(plugin, 1));
    }

    [Fact]
    public async Task A_wrong_passphrase_stops_start_up_with_a_clear_error_and_changes_nothing()
    {
        await KeystoreAsync("init");
        var before = await File.ReadAllBytesAsync(_keystore);
        var wrong = _dir.File("wrong");
        await File.WriteAllTextAsync(wrong, "not the passphrase");
        File.SetUnixFileMode(wrong, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var result = await PluginProcess.RunCliAsync(null, "serve", "--socket", _dir.File("kms.sock"), "--keystore", _keystore, "--passphrase-file", wrong);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("wrong passphrase", result.Error);
        Assert.DoesNotContain("not the passphrase", result.Error + result.Output);
        Assert.Equal(before, await File.ReadAllBytesAsync(_keystore));
        Assert.False(PluginProcess.Connectable(_dir.File("kms.sock")));
    }

    [Fact]
    public async Task Retired_keys_are_kept_and_can_be_enabled_again_but_the_primary_cannot_be_retired()
    {
        var firstId = Assert.Single(await KeystoreAsync("init", "--json")).Id;
        var second = Assert.Single(await KeystoreAsync("add", "--json")).Id;

        var refused = await PluginProcess.RunCliAsync(null, ["keystore", "retire", firstId, .. KeystoreArgs()]);
        Assert.Equal(1, refused.ExitCode);

        var keys = await KeystoreAsync("retire", second, "--json");
        Assert.Equal("disabled", keys.Single(k => k.Id == second).State);
        keys = await KeystoreAsync("enable", second, "--json");
        Assert.Equal("decrypt-only", keys.Single(k => k.Id == second).State);
        Assert.Equal(2, (await KeystoreAsync("list", "--json")).Count);
    }

    private string[] KeystoreArgs() => _files.Args;

    private async Task<List<KeyRow>> KeystoreAsync(string verb, params string[] arguments)
    {
        var result = await _files.CliAsync(["keystore", verb, .. arguments.Where(a => a != "--json"), "--json"]);
        return JsonSerializer.Deserialize<List<KeyRow>>(result.Output, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
    }

    private static async Task<List<(byte[] Plain, byte[] Cipher)>> EncryptManyAsync(PluginProcess plugin, int count)
    {
        var list = new List<(byte[], byte[])>();
        for (var i = 0; i < count; i++)
        {
            var plain = RandomNumberGenerator.GetBytes(32);
            var response = await plugin.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) });
            list.Add((plain, response.Cipher.ToByteArray()));
        }

        return list;
    }

    private static async Task AssertDecryptsAsync(PluginProcess plugin, List<(byte[] Plain, byte[] Cipher)> ciphertexts)
    {
        foreach (var (plain, cipher) in ciphertexts)
        {
            var response = await plugin.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = ByteString.CopyFrom(cipher) });
            Assert.Equal(plain, response.Plain.ToByteArray());
        }
    }

    private sealed record KeyRow(string Id, string State, string Created, string? Expires);
}
