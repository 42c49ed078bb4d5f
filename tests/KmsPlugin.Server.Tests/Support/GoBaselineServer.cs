namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// The grpc-go baseline KMS server from bench/baseline/go, built by scripts/test.sh from Debian
/// packages, running on its own socket.
/// </summary>
internal sealed class GoBaselineServer : IAsyncDisposable
{
    private readonly System.Diagnostics.Process _process;

    private GoBaselineServer(System.Diagnostics.Process process, string socketPath)
    {
        _process = process;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    public int Id => _process.Id;

    public static async Task<GoBaselineServer> StartAsync(string socketPath)
    {
        var path = BuiltProgram.Find("KMS_PLUGIN_GO_BASELINE", "kms-baseline", "grpc-go baseline server", "build-go-baseline.sh");
        var server = new GoBaselineServer(ProcessRunner.Start(path, ["-socket", socketPath]), socketPath);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!PluginProcess.Connectable(socketPath))
        {
            if (server._process.HasExited || DateTime.UtcNow > deadline)
            {
                var error = server._process.HasExited ? await server._process.StandardError.ReadToEndAsync() : "timed out";
                await server.DisposeAsync();
                throw new InvalidOperationException($"baseline server did not listen on {socketPath}: {error}");
            }

            await Task.Delay(50);
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
