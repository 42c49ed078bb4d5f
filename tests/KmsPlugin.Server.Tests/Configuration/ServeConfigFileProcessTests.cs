using Google.Protobuf;
using KmsPlugin.Server.Tests.Support;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Configuration;

/// <summary>`kms-plugin serve --config FILE` as an operator runs it: the real binary, a real keystore.</summary>
public sealed class ServeConfigFileProcessTests : IAsyncLifetime
{
    private readonly KeystoreFiles _files = new("config test passphrase");

    public async Task InitializeAsync() => await _files.CliAsync("keystore", "init");

    public Task DisposeAsync()
    {
        _files.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("config.yaml")]
    [InlineData("config.json")]
    public async Task A_config_file_alone_starts_serve_and_it_serves_v1_and_v2(string name)
    {
        var socket = _files.Directory.File("run/kms.sock");
        var config = _files.Directory.File(name);
        await File.WriteAllTextAsync(config, name.EndsWith(".json", StringComparison.Ordinal)
            ? $$"""
                {
                  "socket": "{{socket}}", "socketMode": "0660", "healthAddress": "127.0.0.1:0", "logLevel": "Information",
                  "dataKeys": { "cacheSize": 10, "maxAge": "1h" },
                  "keystore": { "path": "{{_files.Keystore}}", "passphraseFile": "{{_files.PassphraseFile}}" }
                }
                """
            : $"""
                socket: {socket}
                socketMode: "0660"
                healthAddress: 127.0.0.1:0
                logLevel: Information
                dataKeys:
                  cacheSize: 10
                  maxAge: 1h
                keystore:
                  path: {_files.Keystore}
                  passphraseFile: {_files.PassphraseFile}
                """);

        await using var plugin = await PluginProcess.StartServeAsync(socket, null, "--config", config);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(socket));
        var plain = ByteString.CopyFromUtf8("a data key of 32 bytes, not more");
        var v1 = await plugin.V1.EncryptAsync(new V1.EncryptRequest { Version = "v1beta1", Plain = plain });
        Assert.Equal(plain, (await plugin.V1.DecryptAsync(new V1.DecryptRequest { Version = "v1beta1", Cipher = v1.Cipher })).Plain);
        var status = await plugin.V2.StatusAsync(new V2.StatusRequest());
        Assert.Equal("ok", status.Healthz);
        var v2 = await plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = plain, Uid = "u1" });
        Assert.Equal(status.KeyId, v2.KeyId);
        Assert.Equal(plain, (await plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = v2.Ciphertext, KeyId = v2.KeyId, Uid = "u2" })).Plaintext);
        Assert.DoesNotContain(_files.Passphrase, plugin.Log);
        Assert.Equal(0, await plugin.TerminateAsync());
    }

    [Fact]
    public async Task The_variable_overrides_the_file_and_the_flag_overrides_the_variable()
    {
        var config = await WriteConfigAsync(_files.Directory.File("config.yaml"), "socket: " + _files.Directory.File("file.sock"));
        var environment = new Dictionary<string, string>
        {
            ["KMS_PLUGIN_CONFIG"] = config,
            ["KMS_PLUGIN_SOCKET"] = _files.Directory.File("env.sock"),
        };

        await using (var plugin = await PluginProcess.StartServeAsync(_files.Directory.File("env.sock"), environment))
        {
            Assert.Equal("ok", (await plugin.V2.StatusAsync(new V2.StatusRequest())).Healthz);
            Assert.False(File.Exists(_files.Directory.File("file.sock")));
            Assert.Equal(0, await plugin.TerminateAsync());
        }

        await using (var plugin = await PluginProcess.StartServeAsync(_files.Directory.File("flag.sock"), environment, "--socket", _files.Directory.File("flag.sock")))
        {
            Assert.Equal("ok", (await plugin.V2.StatusAsync(new V2.StatusRequest())).Healthz);
            Assert.False(File.Exists(_files.Directory.File("env.sock")));
            Assert.False(File.Exists(_files.Directory.File("file.sock")));
        }
    }

    [Fact]
    public async Task The_example_config_serves_once_its_paths_point_at_this_machine()
    {
        var example = Path.Combine(RepositoryPaths.Root, "charts/examples/kms-plugin-config.yaml");
        var socket = _files.Directory.File("example.sock");

        await using var plugin = await PluginProcess.StartAsync(socket, null, ["--config", example, .. _files.Args]);

        Assert.Equal("ok", (await plugin.V2.StatusAsync(new V2.StatusRequest())).Healthz);
    }

    [Fact]
    public async Task A_file_with_several_problems_reports_them_all_with_the_others_and_creates_no_socket()
    {
        var socketDirectory = _files.Directory.File("never");
        var config = await WriteConfigAsync(_files.Directory.File("bad.yaml"), $"""
            socket: {socketDirectory}/kms.sock
            socketMode: "0777"
            pkcs11:
              tokn: kms
            keystore:
              passphrase: do-not-echo-me
            dataKeys:
              cacheSize: many
            """, withKeystore: false);
        var environment = new Dictionary<string, string> { ["KMS_PLUGIN_DEK_MAX_AGE"] = "soon" };

        var result = await PluginProcess.RunCliAsync(environment, "serve", "--config", config, "--log-level", "loud");

        Assert.Equal(2, result.ExitCode);
        foreach (var expected in new[]
        {
            $"{config}:2: socketMode 0777: only owner and group read/write bits are allowed",
            $"{config}:4: pkcs11.tokn: unknown setting; did you mean pkcs11.token?",
            $"{config}:6: keystore.passphrase: secrets are never read from the config file",
            $"{config}:8: dataKeys.cacheSize many: not a whole number",
            "KMS_PLUGIN_DEK_MAX_AGE soon: not a positive duration",
            "--log-level loud: expected one of",
            "no root keys",
        })
        {
            Assert.Contains(expected, result.Error);
        }

        Assert.DoesNotContain("do-not-echo-me", result.Error + result.Output);
        Assert.False(Directory.Exists(socketDirectory));
    }

    [Fact]
    public async Task Sighup_applies_a_new_log_level_names_restart_only_changes_and_a_bad_reload_keeps_serving()
    {
        // The config reached through a symlink into another folder, as a ConfigMap volume does: only SIGHUP reloads it here.
        var real = _files.Directory.File("data/config.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(real)!);
        var config = _files.Directory.File("config.yaml");
        File.CreateSymbolicLink(config, real);
        var socket = _files.Directory.File("kms.sock");
        await WriteConfigAsync(real, "logLevel: Warning");
        await using var plugin = await PluginProcess.StartAsync(socket, null, "--config", config);
        Assert.DoesNotContain("serving KMS", plugin.Log);

        await WriteConfigAsync(real, "logLevel: Information\nsocketMode: \"0660\"");
        await plugin.HangUpAsync();
        await plugin.WaitForLogAsync("log level changed from Warning to Information");
        await plugin.WaitForLogAsync("root keys reloaded");
        await plugin.WaitForLogAsync("socketMode changed from \"0600\" to \"0660\"");
        Assert.Contains("it needs a restart to take effect, the running value stays", plugin.Log);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));

        await WriteConfigAsync(real, "logLevel: Error");
        await plugin.HangUpAsync();
        await plugin.WaitForLogAsync("log level changed from Information to Error");
        var reloadedLines = plugin.CountInLog("root keys reloaded");

        await WriteConfigAsync(real, "logLevel: Loud\npkcs11:\n  tokn: kms");
        await plugin.HangUpAsync();
        await plugin.WaitForLogAsync("configuration reload failed; the running configuration and key ring are unchanged. 2 problem(s)");
        Assert.Contains($"{config}:1: logLevel Loud: expected one of", plugin.Log);
        Assert.Contains("pkcs11.tokn: unknown setting; did you mean pkcs11.token?", plugin.Log);
        Assert.Equal(reloadedLines, plugin.CountInLog("root keys reloaded"));

        var plain = ByteString.CopyFromUtf8("still serving after a bad reload");
        var encrypted = await plugin.V2.EncryptAsync(new V2.EncryptRequest { Plaintext = plain, Uid = "u" });
        Assert.Equal(plain, (await plugin.V2.DecryptAsync(new V2.DecryptRequest { Ciphertext = encrypted.Ciphertext, KeyId = encrypted.KeyId, Uid = "u" })).Plaintext);
        Assert.Equal("ok", (await plugin.V2.StatusAsync(new V2.StatusRequest())).Healthz);
    }

    private async Task<string> WriteConfigAsync(string path, string yaml, bool withKeystore = true)
    {
        var keystore = withKeystore ? $"\nkeystore:\n  path: {_files.Keystore}\n  passphraseFile: {_files.PassphraseFile}\n" : "\n";
        var staging = path + ".new";
        await File.WriteAllTextAsync(staging, yaml + keystore);
        File.Move(staging, path, overwrite: true);
        return path;
    }
}
