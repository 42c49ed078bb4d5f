using System.Net.Sockets;
using System.Text;
using Grpc.Net.Client;

namespace KmsPlugin.LoadGen.Transport;

/// <summary>One gRPC channel = one HTTP/2 connection to a unix socket, as kube-apiserver holds one per provider.</summary>
internal static class KmsChannel
{
    public static GrpcChannel Create(string socketPath, AuthorityMode authority)
    {
        string header = HeaderValue(socketPath, authority);
        string? placeholder = authority == AuthorityMode.Localhost ? null : AuthorityRewritingStream.PlaceholderFor(header);
        var sockets = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    Stream stream = new NetworkStream(socket, ownsSocket: true);
                    return placeholder is null
                        ? stream
                        : new AuthorityRewritingStream(stream, Encoding.ASCII.GetBytes(placeholder), Encoding.UTF8.GetBytes(header));
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            // One connection per channel, so --connections means what it says.
            EnableMultipleHttp2Connections = false,
        };
        HttpMessageHandler handler = placeholder is null ? sockets : new AuthorityHandler(placeholder, sockets);
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    public static string HeaderValue(string socketPath, AuthorityMode authority) => authority switch
    {
        AuthorityMode.SocketPath => socketPath,
        // What Go's url.PathEscape makes of a socket path: only '/' changes in the paths used here.
        AuthorityMode.PercentEncoded => socketPath.Replace("/", "%2F", StringComparison.Ordinal),
        _ => "localhost",
    };

    /// <summary>The name of the mode in results and on the command line.</summary>
    public static string ModeName(AuthorityMode authority) => authority switch
    {
        AuthorityMode.SocketPath => "socket-path",
        AuthorityMode.PercentEncoded => "percent-encoded",
        _ => "localhost",
    };
}
