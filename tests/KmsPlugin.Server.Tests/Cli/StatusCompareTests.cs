using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Tests.Support;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>`status --compare`: the one-shot check before promoting a key, over real plugins' metrics endpoints.</summary>
public sealed class StatusCompareTests : IDisposable
{
    private const string Passphrase = "compare test passphrase";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Marks_the_node_with_other_root_keys_and_passes_once_it_has_the_same_keystore()
    {
        var shared = CreateKeystore("shared.json");
        var other = CreateKeystore("other.json");
        var passphrase = _dir.File("passphrase");
        await File.WriteAllTextAsync(passphrase, Passphrase + "\n");
        File.SetUnixFileMode(passphrase, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var ports = new[] { LoopbackPorts.Free(), LoopbackPorts.Free(), LoopbackPorts.Free() };
        var keystores = new[] { shared, shared, other };
        var plugins = new List<PluginProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                plugins.Add(await PluginProcess.StartAsync(_dir.File($"kms{i}.sock"), null,
                    "--keystore", keystores[i], "--passphrase-file", passphrase, "--health-address", $"127.0.0.1:{ports[i]}"));
            }

            string[] compare = ["status", "--compare", .. ports.Select(p => $"http://127.0.0.1:{p}"), "--timeout", "30s"];
            var differ = await PluginProcess.RunCliAsync(null, compare);
            Assert.True(differ.ExitCode == 1, differ.ToString());
            var rows = differ.Output.Split('\n');
            Assert.StartsWith("  NODE", rows[0]);
            Assert.Contains("KEY CHECK VALUE", rows[0]);
            Assert.Single(rows, r => r.StartsWith($"* 127.0.0.1:{ports[2]} ", StringComparison.Ordinal));
            Assert.Single(rows, r => r.StartsWith($"* 127.0.0.1:{ports[0]} ", StringComparison.Ordinal));
            Assert.Contains("NOT the same on every node", differ.Output);

            File.Copy(shared, other + ".new");
            File.Move(other + ".new", other, overwrite: true);
            // Its running primary is not in the copy, so the reload is refused (what it wrote under
            // that key would turn unreadable); taking the copy anyway is the operator's restart.
            await plugins[2].WaitForLogAsync("refusing a rollback");
            var stopped = plugins[2];
            Assert.Equal(0, await stopped.TerminateAsync());
            plugins[2] = await PluginProcess.StartAsync(_dir.File("kms2.sock"), null,
                "--keystore", other, "--passphrase-file", passphrase, "--health-address", $"127.0.0.1:{ports[2]}");
            await stopped.DisposeAsync();
            var same = await PluginProcess.RunCliAsync(null, compare);
            Assert.True(same.ExitCode == 0, same.ToString());
            Assert.DoesNotContain("\n* ", "\n" + same.Output);
            Assert.Equal(3, same.Output.Split('\n').Count(r => r.Contains(" primary ", StringComparison.Ordinal)));
            Assert.Contains("same root keys on every node", same.Output);

            // A node that does not answer is a difference too: nothing can be promoted past it.
            await plugins[1].TerminateAsync();
            var gone = await PluginProcess.RunCliAsync(null, compare);
            Assert.Equal(1, gone.ExitCode);
            Assert.Contains($"127.0.0.1:{ports[1]}: cannot read http://127.0.0.1:{ports[1]}/metrics", gone.Error);
        }
        finally
        {
            foreach (var plugin in plugins)
            {
                await plugin.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData("cp-1:8787")]
    [InlineData("ftp://cp-1/metrics")]
    public async Task A_bad_url_is_one_line_and_exit_2(string url)
    {
        var result = await PluginProcess.RunCliAsync(null, "status", "--compare", url, "http://127.0.0.1:1");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"--compare: \"{url}\" is not a metrics URL such as http://cp-1:8787", result.Error.Trim());
        Assert.Equal("", result.Output);
    }

    [Fact]
    public void The_metrics_page_parser_reads_escaped_label_values_and_skips_comments()
    {
        var page = MetricsPage.Parse("# HELP x y\n# TYPE x gauge\nkms_plugin_root_key_info{key_id=\"a\\\"b\",role=\"primary\",key_check_value=\"c\\\\d\"} 1\nkms_plugin_dek_cache_capacity 1000\nbroken{x=\"1\n");
        var info = Assert.Single(page.Samples("kms_plugin_root_key_info"));
        Assert.Equal("a\"b", info.Label("key_id"));
        Assert.Equal("c\\d", info.Label("key_check_value"));
        Assert.Equal(1000, Assert.Single(page.Samples("kms_plugin_dek_cache_capacity")).Value);
        Assert.Empty(page.Samples("broken"));
    }

    private string CreateKeystore(string name)
    {
        var path = _dir.File(name);
        KeystoreFile.Create(path, System.Text.Encoding.UTF8.GetBytes(Passphrase), new KeystoreOptions { Kdf = KeystoreKdfParameters.Minimum }).Dispose();
        return path;
    }
}
