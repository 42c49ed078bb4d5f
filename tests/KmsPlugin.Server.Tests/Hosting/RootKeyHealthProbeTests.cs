using KmsPlugin.Protocol.V2;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace KmsPlugin.Server.Tests.Hosting;

public sealed class RootKeyHealthProbeTests
{
    [Fact]
    public async Task A_passed_check_that_is_too_old_no_longer_counts_as_healthy()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new PluginHostOptions { SocketPath = "/unused" };
        // Not started as a background service: only CheckNowAsync runs, as if the loop were stuck.
        using var probe = new RootKeyHealthProbe(TestKeys.Development(), options, clock, NullLogger<RootKeyHealthProbe>.Instance);
        Assert.Equal("root key not checked yet", probe.Healthz);

        await probe.CheckNowAsync(default);
        Assert.Equal("ok", probe.Healthz);

        clock.Advance(options.HealthStaleAfter);
        Assert.Equal("ok", probe.Healthz);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.StartsWith("root key check is stale: last passed at ", probe.Healthz);
    }

    [Fact]
    public async Task The_background_probe_notices_an_outage_and_the_recovery_by_itself()
    {
        var provider = new ObservedKeyProvider(TestKeys.Development());
        await using var plugin = await RunningPlugin.StartAsync(provider, o => o with
        {
            HealthProbeInterval = TimeSpan.FromMilliseconds(100),
            HealthProbeIntervalWhenUnhealthy = TimeSpan.FromMilliseconds(100),
        });

        provider.Unreachable = true;
        await WaitForAsync(plugin, healthz => healthz != "ok");
        provider.Unreachable = false;
        await WaitForAsync(plugin, healthz => healthz == "ok");
    }

    private static async Task WaitForAsync(RunningPlugin plugin, Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string healthz;
        while (!condition(healthz = (await plugin.V2.StatusAsync(new StatusRequest())).Healthz))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Status still says {healthz}");
            await Task.Delay(50);
        }
    }
}
