using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

public sealed class ServeAndStatusCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Dev_mode_serves_warns_loudly_and_status_reports_healthy()
    {
        var socket = _dir.File("dev/kms.sock");
        await using var plugin = await PluginProcess.StartAsync(socket, null, "--dev");

        var status = await PluginProcess.RunCliAsync(null, "status", "--socket", socket, "--timeout", "30s");

        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("version=v1beta1 runtime=kms-plugin", status.Output);
        Assert.Matches("v2 Status: version=v2 healthz=ok key_id=kek-[0-9]{8}-[0-9a-f]{8}@1", status.Output);
        Assert.Contains("v2 Encrypt/Decrypt of a 32-byte key: ok", status.Output);
        Assert.EndsWith("healthy\n", status.Output);
        Assert.Contains("DEVELOPMENT MODE", plugin.Log);
        Assert.Equal(0, await plugin.TerminateAsync());
        Assert.False(PluginProcess.Connectable(socket));
    }

    [Fact]
    public async Task Status_of_a_missing_plugin_is_unhealthy()
    {
        var status = await PluginProcess.RunCliAsync(null, "status", "--socket", _dir.File("nothing.sock"), "--timeout", "500ms");

        Assert.Equal(1, status.ExitCode);
        Assert.Contains("unhealthy: v1beta1 Version failed", status.Error);
        Assert.Contains("unhealthy: v2 Status failed", status.Error);
    }

    [Fact]
    public async Task The_socket_can_come_from_the_environment()
    {
        var socket = _dir.File("env.sock");
        var environment = new Dictionary<string, string> { ["KMS_PLUGIN_SOCKET"] = socket };
        await using var plugin = await PluginProcess.StartAsync(socket, null, "--dev");

        var status = await PluginProcess.RunCliAsync(environment, "status", "--timeout", "30s");

        Assert.True(status.ExitCode == 0, status.ToString());
    }

    [Fact]
    public async Task Serve_reports_every_configuration_problem_at_once()
    {
        var result = await PluginProcess.RunCliAsync(null, "serve", "--socket", "/tmp/" + new string('a', 120), "--socket-mode", "0777", "--dek-max-uses", "99999999999", "--dek-max-age", "soon", "--log-level", "loud", "--health-address", "8787");

        Assert.Equal(2, result.ExitCode);
        foreach (var expected in new[] { "107 bytes", "--health-address 8787", "--socket-mode 0777", "max uses must be between 1 and 2^32", "--dek-max-age soon", "--log-level loud", "no root keys", "no keystore passphrase" })
        {
            Assert.Contains(expected, result.Error);
        }
    }

    [Fact]
    public async Task Secrets_are_never_accepted_on_the_command_line_nor_echoed_back()
    {
        const string secret = "hunter2-on-argv";
        string[][] attempts =
        [
            ["serve", "--dev", "--socket", _dir.File("x.sock"), "--passphrase", secret],
            ["serve", "--socket", _dir.File("x.sock"), "--provider", "pkcs11", "--pkcs11-pin", secret],
            ["serve", "--socket", _dir.File("x.sock"), "--provider", "pkcs11", "--pin", secret],
            ["keystore", "init", "--keystore", _dir.File("ks.json"), $"--passphrase={secret}"],
            ["pkcs11", "list", "--module", "/nonexistent.so", "--token", "t", "--PIN", secret],
        ];
        foreach (var attempt in attempts)
        {
            var refused = await PluginProcess.RunCliAsync(null, attempt);
            Assert.True(refused.ExitCode == 2, refused.ToString());
            Assert.Contains("secrets never go on the command line", refused.Error);
            Assert.DoesNotContain(secret, refused.Output + refused.Error);
        }

        Assert.False(PluginProcess.Connectable(_dir.File("x.sock")));
        Assert.False(File.Exists(_dir.File("ks.json")));
        var help = await PluginProcess.RunCliAsync(null, "serve", "--help");
        Assert.DoesNotContain("--passphrase ", help.Output);
        Assert.Contains("KMS_PLUGIN_PASSPHRASE_FILE", help.Output);
    }

    [Fact]
    public async Task Version_prints_the_product_version()
    {
        var result = await PluginProcess.RunCliAsync(null, "version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^kms-plugin \d+\.\d+\.\d+", result.Output);
    }

    [Fact]
    public async Task Serve_answers_health_on_the_configured_loopback_address()
    {
        var port = LoopbackPorts.Free();
        await using var plugin = await PluginProcess.StartAsync(_dir.File("h.sock"), null, "--dev", "--health-address", $"127.0.0.1:{port}");
        using var http = new HttpClient();

        Assert.Equal("ok\n", await http.GetStringAsync($"http://127.0.0.1:{port}/livez"));
        Assert.Equal("ok\n", await http.GetStringAsync($"http://127.0.0.1:{port}/healthz"));
        Assert.Contains("kms_plugin_build_info", await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
    }
}
