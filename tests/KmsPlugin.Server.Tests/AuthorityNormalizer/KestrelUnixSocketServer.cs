using KmsPlugin.Server.AuthorityNormalizer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

/// <summary>A real Kestrel on a temp unix socket, HTTP/2 only, answering "host|x-test".</summary>
internal sealed class KestrelUnixSocketServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private KestrelUnixSocketServer(WebApplication app, string directory, string socketPath)
    {
        _app = app;
        _directory = directory;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    public static async Task<KestrelUnixSocketServer> StartAsync(bool normalizeAuthority)
    {
        string directory = Directory.CreateTempSubdirectory("kms-h2-").FullName;
        string socketPath = Path.Combine(directory, "kms.sock");

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(socketPath, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (normalizeAuthority)
            {
                listen.UseAuthorityNormalizer();
            }
        }));

        WebApplication app = builder.Build();
        app.Run(context => context.Response.WriteAsync($"{context.Request.Host.Value}|{context.Request.Headers["x-test"]}"));
        await app.StartAsync();
        return new KestrelUnixSocketServer(app, directory, socketPath);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
