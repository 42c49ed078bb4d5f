using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Hosting;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>The `kms-plugin` executable as an operator runs it, in its own process.</summary>
internal sealed class PluginProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly global::Grpc.Net.Client.GrpcChannel _channel;

    private PluginProcess(Process process, string socketPath)
    {
        _process = process;
        SocketPath = socketPath;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _channel = UnixSocketClient.Create(socketPath);
        V1 = new KeyManagementService.KeyManagementServiceClient(_channel);
        V2 = new Protocol.V2.KeyManagementService.KeyManagementServiceClient(_channel);
    }

    public string SocketPath { get; }

    public global::Grpc.Net.Client.GrpcChannel Channel => _channel;

    public KeyManagementService.KeyManagementServiceClient V1 { get; }

    public Protocol.V2.KeyManagementService.KeyManagementServiceClient V2 { get; }

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

    public int Id => _process.Id;

    public static Task<ProcessResult> RunCliAsync(IDictionary<string, string>? environment, params string[] arguments)
    {
        var (fileName, command) = PluginExecutable.Command(arguments);
        return ProcessRunner.RunAsync(fileName, command, environment);
    }

    public static async Task<PluginProcess> StartAsync(string socketPath, IDictionary<string, string>? environment, params string[] arguments)
    {
        // Parallel tests run many plugins: each takes a free port for its health listener.
        string[] health = arguments.Contains("--health-address") ? [] : ["--health-address", "127.0.0.1:0"];
        return await StartServeAsync(socketPath, environment, ["--socket", socketPath, .. health, .. arguments]);
    }

    /// <summary>`serve` with exactly <paramref name="arguments"/> (e.g. only --config); waits until <paramref name="socketPath"/> accepts.</summary>
    public static Task<PluginProcess> StartServeAsync(string socketPath, IDictionary<string, string>? environment, params string[] arguments) =>
        StartAndWaitAsync([], ["serve", .. arguments], environment, socketPath);

    /// <summary>`serve` as the unprivileged <paramref name="uid"/> (CI runs as root), waiting until <paramref name="socketPath"/> accepts.</summary>
    public static Task<PluginProcess> StartServeAsUserAsync(int uid, string socketPath, params string[] arguments) =>
        StartAndWaitAsync(AsUser(uid), ["serve", .. arguments], null, socketPath);

    /// <summary>
    /// As <see cref="StartAsync"/>, but the plugin runs as <paramref name="userId"/> (same group id, no
    /// supplementary groups) through setpriv, as a static pod runs it while an operator uses sudo.
    /// </summary>
    public static Task<PluginProcess> StartAsUserAsync(int userId, string socketPath, IDictionary<string, string>? environment, params string[] arguments) =>
        StartAndWaitAsync(AsUser(userId), ["serve", "--socket", socketPath, "--health-address", "127.0.0.1:0", .. arguments], environment, socketPath);

    /// <summary>setpriv's arguments that run the rest of a command line as <paramref name="uid"/> (and the same gid), no groups.</summary>
    public static string[] AsUser(int uid) => [$"--reuid={uid}", $"--regid={uid}", "--clear-groups"];

    private static async Task<PluginProcess> StartAndWaitAsync(string[] asUser, string[] pluginArguments, IDictionary<string, string>? environment, string socketPath)
    {
        var (program, command) = PluginExecutable.Command(pluginArguments);
        var process = asUser.Length == 0
            ? ProcessRunner.Start(program, command, environment)
            : ProcessRunner.Start("setpriv", [.. asUser, "--", program, .. command], environment);
        var plugin = new PluginProcess(process, socketPath);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!Connectable(socketPath))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var log = plugin.Log;
                await plugin.DisposeAsync();
                throw new InvalidOperationException($"plugin did not start listening on {socketPath}:\n{log}");
            }

            await Task.Delay(50);
        }

        return plugin;
    }

    /// <summary>Waits (up to 30 s) until the log holds <paramref name="text"/> at least <paramref name="times"/> times.</summary>
    public async Task WaitForLogAsync(string text, int times = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (CountInLog(text) < times)
        {
            Assert.True(DateTime.UtcNow < deadline, $"log never said \"{text}\" {times} time(s):\n{Log}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits (up to 30 s) until KMS v2 Status reports <paramref name="keyId"/>.</summary>
    public async Task WaitForKeyIdAsync(string keyId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await V2.StatusAsync(new Protocol.V2.StatusRequest())).KeyId != keyId)
        {
            Assert.True(DateTime.UtcNow < deadline, $"key_id never became {keyId}:\n{Log}");
            await Task.Delay(100);
        }
    }

    public int CountInLog(string text) => Log.Split(text).Length - 1;

    /// <summary>SIGHUP, as an operator asks for a reload.</summary>
    public Task HangUpAsync() => ProcessRunner.RunAsync("kill", ["-HUP", _process.Id.ToString()]);

    /// <summary>SIGTERM, as the kubelet stops a static pod; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        if (!_process.HasExited)
        {
            await ProcessRunner.RunAsync("kill", ["-TERM", _process.Id.ToString()]);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits (up to 30 s) for a process already sent SIGTERM to exit, without a second signal; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL, as the OOM killer or a lost node ends it: no shutdown code runs, the socket file stays.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    public static bool Connectable(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
