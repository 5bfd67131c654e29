using System.Net;
using System.Net.Sockets;

namespace Yarp.Tunnels.Utilities;

/// <summary>Binds the listening sockets of socket listeners (TCP proxy and HTTP).</summary>
internal static class ListenSocket
{
    /// <summary>A socket bound to <paramref name="endPoint"/> and listening; <c>[::]</c> also accepts IPv4, as Kestrel's does.</summary>
    public static Socket Bind(IPEndPoint endPoint, int backlog)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(endPoint);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
