using KmsPlugin.Core.RootKeys;
using KmsPlugin.Protocol.V1Beta1;
using KmsPlugin.Server.Hosting;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>The real server, in process, on a temp unix socket, with a real gRPC client.</summary>
internal sealed class RunningPlugin : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly global::Grpc.Net.Client.GrpcChannel _channel;

    private RunningPlugin(TempDirectory directory, PluginHost host)
    {
        _directory = directory;
        Host = host;
        _channel = UnixSocketClient.Create(host.SocketPath);
        V1 = new KeyManagementService.KeyManagementServiceClient(_channel);
        V2 = new Protocol.V2.KeyManagementService.KeyManagementServiceClient(_channel);
    }

    public PluginHost Host { get; }

    public global::Grpc.Net.Client.GrpcChannel Channel => _channel;

    public string SocketPath => Host.SocketPath;

    public KeyManagementService.KeyManagementServiceClient V1 { get; }

    public Protocol.V2.KeyManagementService.KeyManagementServiceClient V2 { get; }

    public static async Task<RunningPlugin> StartAsync(IRootKeyProvider provider, Func<PluginHostOptions, PluginHostOptions>? configure = null, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null)
    {
        var directory = new TempDirectory();
        var options = new PluginHostOptions { SocketPath = directory.File("run/kms.sock"), LogLevel = LogLevel.Warning };
        options = configure?.Invoke(options) ?? options;
        var host = await PluginHost.StartAsync(options, provider, logging ?? (l => l.ClearProviders()), time);
        return new RunningPlugin(directory, host);
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await Host.DisposeAsync();
        _directory.Dispose();
    }
}
