using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>`--config` on the verbs other than serve: each reads its own settings from serve's file.</summary>
public sealed class VerbConfigFileTests : IDisposable
{
    private readonly KeystoreFiles _files = new("verb-config-passphrase");

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Keystore_verbs_take_the_keystore_and_passphrase_file_from_config()
    {
        var config = WriteConfig($"keystore:\n  path: {_files.Keystore}\n  passphraseFile: {_files.PassphraseFile}\n");

        var init = await PluginProcess.RunCliAsync(null, "keystore", "init", "--config", config);
        var list = await PluginProcess.RunCliAsync(null, "keystore", "list", "--config", config, "--json");

        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.True(File.Exists(_files.Keystore));
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("\"state\":\"primary\"", list.Output);
    }

    [Fact]
    public async Task A_flag_overrides_the_config_file_on_keystore_verbs()
    {
        var config = WriteConfig($"keystore:\n  path: {_files.Directory.File("elsewhere.json")}\n  passphraseFile: {_files.PassphraseFile}\n");

        var init = await PluginProcess.RunCliAsync(null, "keystore", "init", "--config", config, "--keystore", _files.Keystore);

        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.True(File.Exists(_files.Keystore));
        Assert.False(File.Exists(_files.Directory.File("elsewhere.json")));
    }

    [Fact]
    public async Task Status_takes_the_socket_from_config()
    {
        var socket = _files.Directory.File("p.sock");
        await using var plugin = await PluginProcess.StartAsync(socket, null, "--dev");
        var config = WriteConfig($"socket: {socket}\n");

        var status = await PluginProcess.RunCliAsync(null, "status", "--config", config, "--timeout", "30s");

        Assert.True(status.ExitCode == 0, status.ToString());
    }

    [Fact]
    public async Task Etcd_verify_takes_the_backups_root_keys_from_config()
    {
        var missing = _files.Directory.File("no-such-keystore.json");
        var config = WriteConfig($"keystore:\n  path: {missing}\n  passphraseFile: {_files.PassphraseFile}\n");

        var verify = await PluginProcess.RunCliAsync(null, "etcd", "verify", "--config", config);

        Assert.Equal(2, verify.ExitCode);
        Assert.Contains($"keystore \"{missing}\" does not exist", verify.Error);
    }

    [Fact]
    public async Task A_verb_reports_a_broken_config_file()
    {
        var config = WriteConfig("sockett: /x.sock\n");

        var status = await PluginProcess.RunCliAsync(null, "status", "--config", config);

        Assert.Equal(2, status.ExitCode);
        Assert.Contains("sockett", status.Error);
    }

    private string WriteConfig(string yaml)
    {
        var path = _files.Directory.File($"config-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}
