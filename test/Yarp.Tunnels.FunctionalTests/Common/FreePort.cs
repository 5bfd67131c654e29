using System.Net;
using System.Net.Sockets;

namespace Yarp.Tunnels.FunctionalTests.Common;

internal static class FreePort
{
    /// <summary>A loopback port that was free a moment ago, for configs that must name the port up front.</summary>
    public static int Get()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// A loopback socket bound but not listening: connects to its port are refused, and while it is kept no parallel
    /// test can take the port.
    /// </summary>
    public static Socket BindRefusing()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    /// <summary>Polls until something accepts on <paramref name="port"/> (or stops accepting, when <paramref name="accepting"/> is false).</summary>
    public static async Task WaitAsync(int port, bool accepting = true)
    {
        var deadline = DateTime.UtcNow + TestHost.Timeout;
        while (DateTime.UtcNow < deadline)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, port);
                if (accepting)
                {
                    return;
                }
            }
            catch (SocketException)
            {
                if (!accepting)
                {
                    return;
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Port {port} did not {(accepting ? "start" : "stop")} accepting.");
    }
}
