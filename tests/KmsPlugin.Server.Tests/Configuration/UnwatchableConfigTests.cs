using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Configuration;

/// <summary>
/// A config file whose directory cannot be watched (here: one the plugin's user may traverse but
/// not read, so inotify refuses it, as it refuses past the inotify limit) must not stop the plugin:
/// it polls the file instead, says so once, and SIGHUP still reloads at once.
/// </summary>
public sealed class UnwatchableConfigTests : IDisposable
{
    private const int Nobody = 65534;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_config_directory_that_cannot_be_watched_is_polled_and_sighup_still_reloads()
    {
        // CI runs as root, whom no directory mode stops: the plugin runs as nobody.
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        var configDirectory = Directory.CreateDirectory(_dir.File("config")).FullName;
        var config = Path.Combine(configDirectory, "kms-plugin.yaml");
        await File.WriteAllTextAsync(config, "logLevel: Information\n");
        File.SetUnixFileMode(config, (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(configDirectory, (UnixFileMode)0b111_001_001);
        var run = Directory.CreateDirectory(_dir.File("run")).FullName;
        File.SetUnixFileMode(run, (UnixFileMode)0b111_111_111);
        var socket = Path.Combine(run, "kms.sock");

        await using var plugin = await PluginProcess.StartServeAsUserAsync(Nobody, socket, "--dev", "--config", config, "--socket", socket, "--health-address", "127.0.0.1:0");
        await plugin.WaitForLogAsync($"cannot watch {config} for changes");
        Assert.Contains("polling it instead", plugin.Log);

        await File.WriteAllTextAsync(config, "logLevel: Debug\n");
        await plugin.WaitForLogAsync("log level changed from Information to Debug");

        await File.WriteAllTextAsync(config, "logLevel: Warning\n");
        await plugin.HangUpAsync();
        await plugin.WaitForLogAsync("log level changed from Debug to Warning");
        Assert.Contains("SIGHUP: reloading root keys", plugin.Log);

        Assert.Equal("v1beta1", (await plugin.V1.VersionAsync(new Protocol.V1Beta1.VersionRequest { Version = "v1beta1" })).Version);
        Assert.Equal(0, await plugin.TerminateAsync());
    }
}
