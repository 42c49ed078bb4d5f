using KmsPlugin.Server.AuthorityNormalizer;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KmsPlugin.Server.Hosting;

/// <summary>Kestrel as the plugin runs it: HTTP/2 on the unix socket, HTTP/1 health listener, tight limits.</summary>
internal static class PluginKestrel
{
    public static void Configure(KestrelServerOptions kestrel, PluginHostOptions options, string stagingPath)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxConcurrentConnections = options.MaxConnections;
        kestrel.Limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
        kestrel.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
        kestrel.Limits.KeepAliveTimeout = options.IdleConnectionTimeout;

        kestrel.Limits.MaxRequestHeadersTotalSize = PluginHost.MaxRequestHeadersTotalSize;
        kestrel.Limits.Http2.MaxRequestHeaderFieldSize = 8 * 1024;
        kestrel.ListenUnixSocket(stagingPath, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (options.NormalizeAuthority)
            {
                listen.UseAuthorityNormalizer();
            }
        });
        if (options.HealthEndpoint is { } health)
        {
            kestrel.Listen(health, listen => listen.Protocols = HttpProtocols.Http1);
        }
    }
}
