using System.Net.Sockets;

namespace KmsPlugin.LoadGen.Host;

/// <summary>Which process serves a unix socket: the kernel's SO_PEERCRED of a connection to it.</summary>
internal static class SocketPeer
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    public static int ProcessId(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        Span<byte> credentials = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        int length = socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials);
        if (length < 4)
        {
            throw new InvalidOperationException($"SO_PEERCRED on {socketPath} returned {length} bytes");
        }

        return BitConverter.ToInt32(credentials[..4]);
    }
}
