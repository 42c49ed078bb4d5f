using System.Net.Sockets;
using System.Security.Authentication;
using Grpc.Core;

namespace KmsPlugin.Server.Etcd;

/// <summary>
/// gRPC says only "Unavailable: Error connecting to subchannel." when etcd cannot be reached; the
/// operator needs the endpoint and the reason ("connection refused", "TLS handshake failed: …").
/// </summary>
internal sealed class EtcdUnreachableException : Exception
{
    public EtcdUnreachableException(IReadOnlyList<(string Endpoint, RpcException Error)> failures)
        : base("cannot reach etcd at " + string.Join("; at ", failures.Select(f => $"{f.Endpoint}: {Reason(f.Error)}")))
    {
    }

    /// <summary>
    /// The call never reached etcd: refused, unresolvable, timed out, or TLS failed. gRPC reports a
    /// TLS failure as Internal ("Error starting gRPC call"), so the cause decides, not only the code.
    /// </summary>
    public static bool IsConnectionFailure(RpcException error)
    {
        if (error.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            return true;
        }

        for (Exception? inner = error.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException or SocketException or AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }

    public static string Reason(RpcException error)
    {
        for (Exception? inner = error.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case SocketException socket:
                    return SocketReason(socket.SocketErrorCode);
                case AuthenticationException tls:
                    return $"TLS handshake failed: {tls.Message}";
            }
        }

        return error.StatusCode == StatusCode.DeadlineExceeded ? "no answer in time" : error.Status.Detail;
    }

    private static string SocketReason(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
        SocketError.TimedOut => "connection timed out",
        SocketError.NetworkUnreachable or SocketError.HostUnreachable => "no route to host",
        SocketError.ConnectionReset => "connection reset",
        _ => error.ToString(),
    };
}
