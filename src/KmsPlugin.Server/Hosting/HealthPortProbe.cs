using System.Net;
using System.Net.Sockets;

namespace KmsPlugin.Server.Hosting;

/// <summary>
/// The health listener's address, tried before Kestrel binds it: the usual clash is a second
/// kms-plugin on the node with the default port, and it deserves one line that names the flag.
/// </summary>
internal static class HealthPortProbe
{
    public static void ThrowIfInUse(IPEndPoint health)
    {
        using var probe = new Socket(health.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // As Kestrel binds: connections of a plugin that just stopped, left in TIME_WAIT, are no
            // clash; a socket listening on the port is.
            probe.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            probe.Bind(health);
        }
        catch (SocketException ex)
        {
            throw Failure(health, ex);
        }
    }

    public static PluginStartException Failure(IPEndPoint health, Exception ex)
    {
        var flag = Configuration.ServeSettings.HealthAddress.Flag;
        var inUse = ex is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
            || ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException;
        return new PluginStartException(inUse
            ? $"health address {health} is in use (another kms-plugin on this node?); set {flag} to a free port, or \"off\""
            : $"cannot listen on health address {health}: {(ex.InnerException ?? ex).Message}; set {flag}", ex);
    }
}
