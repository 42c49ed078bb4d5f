using KmsPlugin.RootKeys.Keystore;
using KmsPlugin.Server.Tests.Support;
using KeystoreFile = KmsPlugin.RootKeys.Keystore.KeystoreFile;

namespace KmsPlugin.Server.Tests.Observability;

/// <summary>
/// The shipped alert rules in a real Prometheus (Debian's), scraping three real plugin processes
/// every second. Every `for:` is rendered as 0s here (AlertRuleTests.WithPendingPeriod), so the
/// test waits for scrapes and evaluations, not for the production pending periods.
/// </summary>
public sealed class AlertsEndToEndTests : IDisposable
{
    private const string Passphrase = "alerts end-to-end passphrase";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Expiry_differing_root_keys_and_a_stopped_plugin_fire_the_alerts_for_exactly_the_nodes_concerned()
    {
        var (shared, sharedKey) = CreateKeystore("shared.json", DateTimeOffset.UtcNow.AddDays(5));
        var (other, otherKey) = CreateKeystore("other.json", expiresAt: null);
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

            var instances = ports.Select(p => $"127.0.0.1:{p}").ToArray();
            var rules = AlertRuleTests.WithPendingPeriod(await File.ReadAllTextAsync(PrometheusTools.AlertRules), "0s");
            await using var prometheus = await PrometheusServer.StartAsync(_dir, rules, instances);

            var firing = await prometheus.WaitForAlertsAsync(
                "KmsPluginRootKeyExpiringSoon for the two plugins on the expiring keystore, and KmsPluginRootKeysDiffer",
                alerts => Instances(alerts, "KmsPluginRootKeyExpiringSoon").SequenceEqual(instances[..2].Order(StringComparer.Ordinal))
                    && DifferingKeys(alerts).SequenceEqual(new[] { sharedKey, otherKey }.Order(StringComparer.Ordinal)),
                Patience);
            Assert.DoesNotContain(firing, a => a.Name == "KmsPluginRootKeyExpired");

            // The third node gets the shared keystore, as an operator copies it: a new file renamed over the old.
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
            await prometheus.WaitForAlertsAsync(
                "KmsPluginRootKeysDiffer clears once every node holds the same root keys",
                alerts => !DifferingKeys(alerts).Any() && Instances(alerts, "KmsPluginRootKeyExpiringSoon").Length == 3,
                Patience);

            await plugins[1].TerminateAsync();
            // Polled until it holds: on a loaded machine one slow scrape of a running plugin may count as down for a second.
            await prometheus.WaitForAlertsAsync(
                "KmsPluginDown for the stopped plugin alone, and the two left still agree",
                alerts => Instances(alerts, "KmsPluginDown").SequenceEqual([instances[1]]) && !DifferingKeys(alerts).Any(),
                Patience);
        }
        finally
        {
            foreach (var plugin in plugins)
            {
                await plugin.DisposeAsync();
            }
        }
    }

    private static string[] Instances(IReadOnlyList<FiringAlert> alerts, string name) =>
        alerts.Where(a => a.Name == name).Select(a => a.Label("instance") ?? "").Order(StringComparer.Ordinal).ToArray();

    private static IEnumerable<string> DifferingKeys(IReadOnlyList<FiringAlert> alerts) =>
        alerts.Where(a => a.Name == "KmsPluginRootKeysDiffer").Select(a => a.Label("key_id") ?? "").Order(StringComparer.Ordinal);

    private (string Path, string PrimaryKeyId) CreateKeystore(string name, DateTimeOffset? expiresAt)
    {
        var path = _dir.File(name);
        using var keystore = KeystoreFile.Create(path, System.Text.Encoding.UTF8.GetBytes(Passphrase), new KeystoreOptions { Kdf = KeystoreKdfParameters.Minimum }, expiresAt);
        return (path, keystore.PrimaryKey.Id);
    }
}
