using System.Globalization;
using Google.Protobuf;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Hosting;

/// <summary>
/// A plugin removes only the socket it published itself: not the one of a plugin that won a race
/// to the same path, not the one of a successor that bound while it drained. Real processes.
/// </summary>
public sealed class SocketOwnershipTests
{
    [Fact]
    public async Task Of_two_plugins_started_at_once_on_a_fresh_path_exactly_one_serves_and_its_socket_answers()
    {
        for (var round = 0; round < 3; round++)
        {
            using var dir = new TempDirectory();
            var socket = dir.File("run/kms.sock");
            var (program, arguments) = PluginExecutable.Command("serve", "--dev", "--socket", socket, "--health-address", "127.0.0.1:0");
            using var first = ProcessRunner.Start(program, arguments);
            using var second = ProcessRunner.Start(program, arguments);
            var firstError = first.StandardError.ReadToEndAsync();
            var secondError = second.StandardError.ReadToEndAsync();
            try
            {
                // The loser exits at once; the winner serves until it is stopped.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
                var loserExited = await Task.WhenAny(first.WaitForExitAsync(timeout.Token), second.WaitForExitAsync(timeout.Token));
                await loserExited;
                var (loser, loserError, winner) = first.HasExited ? (first, firstError, second) : (second, secondError, first);

                Assert.Equal(2, loser.ExitCode);
                var message = await loserError;
                Assert.Contains($"another process is serving on socket \"{socket}\"", message);
                Assert.DoesNotContain("   at ", message);
                await WaitUntilAsync(() => PluginProcess.Connectable(socket), "the winner's socket never answered");
                await Task.Delay(500);
                Assert.False(winner.HasExited, "the winner stopped");
                Assert.Equal("v1beta1", (await VersionAsync(socket)).Version);
                Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(socket)!, ".kmsp-*"));
            }
            finally
            {
                foreach (var process in new[] { first, second }.Where(p => !p.HasExited))
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
        }
    }

    [Fact]
    public async Task A_successor_that_binds_while_the_old_plugin_drains_keeps_its_socket()
    {
        using var dir = new TempDirectory();
        var socket = dir.File("run/kms.sock");
        var faults = dir.File("faults");
        await File.WriteAllTextAsync(faults, "");
        var healthPort = LoopbackPorts.Free();
        await using var old = await PluginProcess.StartAsync(socket, null,
            "--dev", "--dek-max-uses", "1", "--dek-cache-size", "1", "--root-key-timeout", "120s", "--shutdown-grace", "120s",
            "--health-address", $"127.0.0.1:{healthPort}", "--diagnostics-faults-file", faults);
        var plain = new byte[32];
        plain[0] = 7;
        var sealedFirst = await old.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(plain) });
        await old.V1.EncryptAsync(new EncryptRequest { Version = "v1beta1", Plain = ByteString.CopyFrom(new byte[32]) });

        // The first value's data key is out of the cache: its Decrypt needs a (slowed) unwrap, so the drain lasts.
        await File.WriteAllTextAsync(faults, "unwrap=slow:20s");
        await old.WaitForLogAsync("unwrap=slow:20000ms");
        var draining = old.V1.DecryptAsync(new DecryptRequest { Version = "v1beta1", Cipher = sealedFirst.Cipher }, deadline: DateTime.UtcNow.AddSeconds(120)).ResponseAsync;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}") };
        await WaitUntilAsync(async () => (await http.GetStringAsync("/metrics")).Contains("kms_plugin_requests_in_flight{api=\"v1\",operation=\"Decrypt\"} 1", StringComparison.Ordinal), "the Decrypt never got in flight");

        await ProcessRunner.RunAsync("kill", ["-TERM", old.Id.ToString(CultureInfo.InvariantCulture)]);
        // Its listener is closed now: a successor sees at most a stale socket and takes the path.
        await WaitUntilAsync(() => !PluginProcess.Connectable(socket), $"the old plugin still accepts connections after SIGTERM:\n{old.Log}");
        await using var successor = await PluginProcess.StartAsync(socket, null, "--dev");
        Assert.False(draining.IsCompleted, "the drain ended before the successor bound: the test proves nothing");

        Assert.Equal(plain, (await draining).Plain.ToByteArray());
        Assert.Equal(0, await old.TerminateAsync());
        Assert.True(PluginProcess.Connectable(socket), $"the old plugin removed its successor's socket:\n{old.Log}");
        Assert.Equal("v1beta1", (await successor.V1.VersionAsync(new VersionRequest { Version = "v1beta1" })).Version);
    }

    private static async Task<VersionResponse> VersionAsync(string socket)
    {
        using var channel = Server.Hosting.UnixSocketClient.Create(socket);
        return await new KeyManagementService.KeyManagementServiceClient(channel).VersionAsync(new VersionRequest { Version = "v1beta1" }, deadline: DateTime.UtcNow.AddSeconds(30));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(50);
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition, string failure) => WaitUntilAsync(() => Task.FromResult(condition()), failure);
}
