using System.Net;
using System.Net.Sockets;
using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Cli;
using KmsPlugin.Server.Hosting;
using KmsPlugin.Server.RootKeys;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Cli;

/// <summary>
/// Every way `serve` fails to start says what is wrong and which setting fixes it in one line,
/// exits 2 for a setting and 1 otherwise, leaves no staging directory and disposes the root keys.
/// </summary>
public sealed class StartupFailureTests : IDisposable
{
    private const int Nobody = 65534;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_health_address_in_use_is_one_line_naming_the_flag_and_exit_2()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var address = $"127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";
        var socket = _dir.File("run/kms.sock");

        var result = await PluginProcess.RunCliAsync(null, "serve", "--dev", "--socket", socket, "--health-address", address);

        AssertOneLineFailure(result, 2, $"kms-plugin serve: health address {address} is in use (another kms-plugin on this node?); set --health-address");
        Assert.False(File.Exists(socket), "a socket was left behind");
        AssertNoStagingDirectory(socket);
    }

    [Fact]
    public async Task Another_plugin_serving_on_the_socket_is_one_line_and_exit_2_and_it_keeps_serving()
    {
        var socket = _dir.File("kms.sock");
        await using var first = await PluginProcess.StartAsync(socket, null, "--dev");

        var result = await PluginProcess.RunCliAsync(null, "serve", "--dev", "--socket", socket, "--health-address", "127.0.0.1:0");

        AssertOneLineFailure(result, 2, $"kms-plugin serve: another process is serving on socket \"{socket}\" (another kms-plugin on this node?); stop it, or set --socket to another path");
        Assert.Equal("v1beta1", (await first.V1.VersionAsync(new Protocol.V1Beta1.VersionRequest { Version = "v1beta1" })).Version);
        AssertNoStagingDirectory(socket);
    }

    [Fact]
    public async Task A_socket_directory_the_user_cannot_write_is_one_line_and_exit_2()
    {
        // CI runs as root, who may write anywhere: the plugin runs as nobody, as a static pod's would not be root.
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        var run = Directory.CreateDirectory(_dir.File("run")).FullName;
        File.SetUnixFileMode(run, (UnixFileMode)0b111_101_101);
        var socket = Path.Combine(run, "kms.sock");

        var (program, arguments) = PluginExecutable.Command("serve", "--dev", "--socket", socket, "--health-address", "127.0.0.1:0");
        var result = await ProcessRunner.RunAsync("setpriv", [.. PluginProcess.AsUser(Nobody), "--", program, .. arguments]);

        AssertOneLineFailure(result, 2, $"kms-plugin serve: cannot create the socket in \"{run}\" as user ");
        Assert.Contains("permission denied; set --socket to a directory this user may write", result.Error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(run));
    }

    [Fact]
    public async Task The_root_keys_are_disposed_when_start_up_fails()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var rootKeys = TestKeys.Development();
        var socket = _dir.File("kms.sock");
        var options = new PluginHostOptions { SocketPath = socket, HealthEndpoint = (IPEndPoint)taken.LocalEndpoint, LogLevel = LogLevel.None };
        using var error = new StringWriter();

        var exitCode = await ServeRun.RunAsync(options, rootKeys, RootKeyModules.Select("software", dev: true), error, CancellationToken.None);

        Assert.Equal(2, exitCode);
        Assert.StartsWith("kms-plugin serve: health address", error.ToString());
        await AssertDisposedAsync(rootKeys);
        AssertNoStagingDirectory(socket);
    }

    [Fact]
    public async Task A_plugin_that_stops_without_a_signal_exits_1_and_disposes_its_root_keys()
    {
        var rootKeys = TestKeys.Development();
        var socket = _dir.File("kms.sock");

        // A reload that fails in an unforeseen way stops the host: that is a failure, never exit 0.
        var broken = new ReloadRequest(() => throw new InvalidOperationException("broken reload"), (_, _) => Task.FromResult("never"));
        var options = new PluginHostOptions { SocketPath = socket, Reload = broken, LogLevel = LogLevel.None };
        using var error = new StringWriter();

        var exitCode = await ServeRun.RunAsync(options, rootKeys, RootKeyModules.Select("software", dev: true), error, CancellationToken.None);

        Assert.Equal(1, exitCode);
        Assert.Single(error.ToString().TrimEnd().Split('\n'));
        await AssertDisposedAsync(rootKeys);
        Assert.False(File.Exists(socket), "the socket of a stopped plugin was left behind");
    }

    private static void AssertOneLineFailure(ProcessResult result, int exitCode, string start)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        var lines = result.Error.TrimEnd().Split('\n');
        Assert.True(lines.Length == 1, $"expected one line on stderr:\n{result}");
        Assert.StartsWith(start, lines[0]);
        Assert.DoesNotContain("   at ", result.Output + result.Error);
    }

    /// <summary>A disposed software provider has zeroed its keys: wrapping through them refuses.</summary>
    private static async Task AssertDisposedAsync(IRootKeyProvider rootKeys) =>
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await rootKeys.Primary.Key.WrapAsync(new byte[32], default, CancellationToken.None));

    private static void AssertNoStagingDirectory(string socket) =>
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(socket)!, ".kmsp-*"));
}
