using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// A real Prometheus on loopback with a temp config and temp storage, scraping every second and
/// evaluating the rules every second; read only through its HTTP API.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http;

    private PrometheusServer(Process process, int port)
    {
        _process = process;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts Prometheus scraping <paramref name="targets"/> (host:port) as job "kms-plugin" with <paramref name="rules"/> loaded.</summary>
    public static async Task<PrometheusServer> StartAsync(TempDirectory directory, string rules, IEnumerable<string> targets)
    {
        var rulesFile = directory.File("alerts.yaml");
        await File.WriteAllTextAsync(rulesFile, rules);
        var config = directory.File("prometheus.yml");
        await File.WriteAllTextAsync(config, $$"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files: [{{rulesFile}}]
            scrape_configs:
              - job_name: kms-plugin
                static_configs:
                  - targets: [{{string.Join(", ", targets)}}]
            """);
        var port = LoopbackPorts.Free();
        var process = ProcessRunner.Start(PrometheusTools.Prometheus, [
            "--config.file=" + config, "--storage.tsdb.path=" + directory.File("data"),
            "--web.listen-address=127.0.0.1:" + port, "--log.level=warn"]);
        var server = new PrometheusServer(process, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!await server.ReadyAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var log = server.Log;
                await server.DisposeAsync();
                throw new InvalidOperationException($"prometheus did not become ready:\n{log}");
            }

            await Task.Delay(200);
        }

        return server;
    }

    /// <summary>The alerts in state "firing", from /api/v1/alerts.</summary>
    public async Task<IReadOnlyList<FiringAlert>> FiringAlertsAsync()
    {
        using var document = JsonDocument.Parse(await _http.GetStringAsync("/api/v1/alerts"));
        return document.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray()
            .Where(alert => alert.GetProperty("state").GetString() == "firing")
            .Select(alert => new FiringAlert(
                alert.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "")))
            .ToList();
    }

    /// <summary>Polls the firing alerts until <paramref name="done"/> holds; fails after <paramref name="timeout"/> with what Prometheus saw.</summary>
    public async Task<IReadOnlyList<FiringAlert>> WaitForAlertsAsync(string what, Func<IReadOnlyList<FiringAlert>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var alerts = await FiringAlertsAsync();
            if (done(alerts))
            {
                return alerts;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what}: not within {timeout.TotalSeconds:0}s. Firing:\n{string.Join('\n', alerts)}\n" +
                    $"targets: {await _http.GetStringAsync("/api/v1/targets")}\nprometheus log:\n{Log}");
            }

            await Task.Delay(500);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task<bool> ReadyAsync()
    {
        try
        {
            return (await _http.GetAsync("/-/ready")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }
}
