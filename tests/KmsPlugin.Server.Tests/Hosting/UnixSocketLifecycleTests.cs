using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Hosting;

public sealed class UnixSocketLifecycleTests
{
    [Fact]
    public async Task Socket_is_created_in_a_new_parent_directory_with_mode_0600_and_removed_on_shutdown()
    {
        using var dir = new TempDirectory();
        var path = dir.File("run/kmsplugin/kms.sock");
        var host = await PluginHost.StartAsync(new PluginHostOptions { SocketPath = path }, TestKeys.Development(), l => l.ClearProviders());
        try
        {
            Assert.True(Connectable(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        }
        finally
        {
            await host.DisposeAsync();
        }

        Assert.False(Connectable(path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public async Task Group_mode_is_applied_when_configured()
    {
        await using var plugin = await RunningPlugin.StartAsync(TestKeys.Development(), o => o with { SocketMode = o.SocketMode | UnixFileMode.GroupRead | UnixFileMode.GroupWrite });
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(plugin.SocketPath));
    }

    [Fact]
    public async Task A_stale_socket_left_by_a_killed_plugin_is_replaced()
    {
        using var dir = new TempDirectory();
        var path = dir.File("kms.sock");
        var crashed = await PluginProcess.StartAsync(path, null, "--dev");
        await crashed.DisposeAsync();
        Assert.True(UnixFileType.IsSocket(path), "SIGKILL should leave the socket file behind");
        Assert.False(Connectable(path));

        await using var host = await PluginHost.StartAsync(new PluginHostOptions { SocketPath = path }, TestKeys.Development(), l => l.ClearProviders());
        Assert.True(Connectable(path));
    }

    [Fact]
    public async Task A_regular_file_at_the_socket_path_is_refused_and_left_alone()
    {
        using var dir = new TempDirectory();
        var path = dir.File("kms.sock");
        await File.WriteAllTextAsync(path, "precious");

        var ex = await Assert.ThrowsAsync<PluginStartException>(() => PluginHost.StartAsync(new PluginHostOptions { SocketPath = path }, TestKeys.Development(), l => l.ClearProviders()));

        Assert.Contains("exists and is not a socket; refusing to delete it", ex.Message);
        Assert.Equal("precious", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task A_socket_another_plugin_is_serving_is_not_stolen()
    {
        await using var first = await RunningPlugin.StartAsync(TestKeys.Development());

        var ex = await Assert.ThrowsAsync<PluginStartException>(() => PluginHost.StartAsync(new PluginHostOptions { SocketPath = first.SocketPath }, TestKeys.Development(), l => l.ClearProviders()));

        Assert.Contains("another process is serving", ex.Message);
        Assert.True(Connectable(first.SocketPath));
    }

    [Fact]
    public void A_relative_or_too_long_path_is_reported()
    {
        Assert.Contains(UnixSocketFile.Check("kms.sock"), p => p.Contains("must be absolute"));
        Assert.Contains(UnixSocketFile.Check("/tmp/" + new string('a', 120)), p => p.Contains("107 bytes"));
    }

    private static bool Connectable(string path) => PluginProcess.Connectable(path);
}
