using System.Globalization;
using System.Text.Json;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Observability;

/// <summary>
/// The metrics the alert rules read, from a real plugin process: its own thresholds, and a root key
/// listing that follows the keystore through add and promote.
/// </summary>
public sealed class AlertMetricsTests : IDisposable
{
    private readonly KeystoreFiles _files = new("alert metrics passphrase");

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Thresholds_and_the_root_key_listing_follow_the_keystore_through_a_rotation()
    {
        var expires = DateTimeOffset.UtcNow.AddDays(5);
        await _files.CliAsync("keystore", "init", "--expires", expires.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        var port = LoopbackPorts.Free();
        var socket = _files.Directory.File("kms.sock");
        await using var plugin = await PluginProcess.StartAsync(socket, null,
            [.. _files.Args, "--health-address", $"127.0.0.1:{port}", "--expiry-warning", "240h", "--dek-cache-size", "77"]);

        var page = await PrometheusText.ScrapeAsync(port);
        Assert.Equal(240 * 3600, PrometheusText.Value(page, "kms_plugin_root_key_expiry_warning_seconds"));
        Assert.Equal(77, PrometheusText.Value(page, "kms_plugin_dek_cache_capacity"));
        Assert.Equal(expires.ToUnixTimeSeconds(), Single(page, "kms_plugin_primary_root_key_expiry_timestamp_seconds"));
        var first = Assert.Single(await KeysAsync(socket));
        Assert.Equal([$"{first.Id} primary {first.CheckValue}"], InfoSeries(page));
        Assert.Equal(1, Single(page, "kms_plugin_primary_root_key_generation"));

        // A second key without an expiry, then promoted: the listing follows each reload.
        var added = await _files.CliAsync("keystore", "add", "--json");
        var second = JsonDocument.Parse(added.Output).RootElement[0].GetProperty("id").GetString()!;
        page = await WaitForPageAsync(port, p => InfoSeries(p).Count == 2);
        await _files.CliAsync("keystore", "promote", second);
        page = await WaitForPageAsync(port, p => InfoSeries(p).Contains($"{second} primary {(KeyOf(p, second))}"));

        var keys = await KeysAsync(socket);
        Assert.Equal(
            keys.Select(k => $"{k.Id} {k.Role} {k.CheckValue}").Order(StringComparer.Ordinal),
            InfoSeries(page));
        Assert.Contains($"{first.Id} decrypt-only {first.CheckValue}", InfoSeries(page));
        Assert.Equal(2, Single(page, "kms_plugin_primary_root_key_generation"));

        // The new primary does not expire: the old one's expiry must not linger and keep an alert firing.
        Assert.Empty(PrometheusText.Samples(page, "kms_plugin_primary_root_key_expiry_timestamp_seconds"));
        Assert.Empty(PrometheusText.Samples(page, "kms_plugin_primary_root_key_expiry_seconds"));
    }

    private static double Single(string page, string metric) => Assert.Single(PrometheusText.Samples(page, metric)).Value;

    /// <summary>"id role kcv" per kms_plugin_root_key_info series, sorted.</summary>
    private static List<string> InfoSeries(string page) =>
        PrometheusText.Samples(page, "kms_plugin_root_key_info").Keys
            .Select(series => $"{Label(series, "key_id")} {Label(series, "role")} {Label(series, "key_check_value")}")
            .Order(StringComparer.Ordinal)
            .ToList();

    private static string? KeyOf(string page, string id) =>
        PrometheusText.Samples(page, "kms_plugin_root_key_info").Keys.Where(s => Label(s, "key_id") == id).Select(s => Label(s, "key_check_value")).FirstOrDefault();

    private static string Label(string series, string name)
    {
        var start = series.IndexOf($"{name}=\"", StringComparison.Ordinal) + name.Length + 2;
        return series[start..series.IndexOf('"', start)];
    }

    private static async Task<string> WaitForPageAsync(int port, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var page = await PrometheusText.ScrapeAsync(port);
            if (done(page))
            {
                return page;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/metrics never showed the change:\n{page}");
            await Task.Delay(200);
        }
    }

    private static async Task<List<(string Id, string Role, string CheckValue)>> KeysAsync(string socket)
    {
        var status = await PluginProcess.RunCliAsync(null, "status", "--socket", socket, "--json", "--timeout", "30s");
        Assert.True(status.ExitCode == 0, status.ToString());
        return JsonDocument.Parse(status.Output).RootElement.GetProperty("rootKeys").EnumerateArray()
            .Select(k => (k.GetProperty("id").GetString()!, k.GetProperty("role").GetString()!, k.GetProperty("keyCheckValue").GetString()!))
            .ToList();
    }
}
