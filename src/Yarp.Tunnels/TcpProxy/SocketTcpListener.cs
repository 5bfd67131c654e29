using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>A TCP proxy listener on a socket: accepts and hands each connection to the handler. Removing it stops accepting and drains.</summary>
internal sealed partial class SocketTcpListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly TcpProxyHandler _handler;
    private readonly ListenerStats _stats;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly Task _acceptLoop;

    public SocketTcpListener(IPEndPoint endPoint, TcpProxyHandler handler, ListenerStats stats, ILogger logger)
    {
        _handler = handler;
        _stats = stats;
        _logger = logger;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                _socket.DualMode = true;
            }
            _socket.Bind(endPoint);
            _socket.Listen(512);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted)
            {
                return;
            }
            catch (SocketException ex)
            {
                Log.AcceptError(_logger, EndPoint, ex);
                continue;
            }

            accepted.NoDelay = true;
            _connections.TryAdd(accepted, 0);
            _stats.ConnectionOpened();
            _ = ServeAsync(accepted);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        try
        {
            await _handler.HandleAsync(new SocketRelayEnd(socket), downstreamFeatures: null).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(socket, out _);
            _stats.ConnectionClosed();
        }
    }

    /// <summary>Stops accepting, then waits up to <paramref name="drainTimeout"/> for open connections before resetting them.</summary>
    public async Task StopAsync(TimeSpan drainTimeout)
    {
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        var deadline = Environment.TickCount64 + (long)drainTimeout.TotalMilliseconds;
        while (!_connections.IsEmpty && Environment.TickCount64 < deadline)
        {
            await Task.Delay(50).ConfigureAwait(false);
        }
        foreach (var connection in _connections.Keys)
        {
            new SocketRelayEnd(connection).Abort();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync(TimeSpan.Zero));

    private static partial class Log
    {
        [LoggerMessage(EventIds.TcpProxyAcceptError, LogLevel.Warning, "TCP proxy listener {EndPoint}: accept failed.")]
        public static partial void AcceptError(ILogger logger, IPEndPoint endPoint, Exception exception);
    }
}
