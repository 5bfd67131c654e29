using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>
/// A TCP proxy listener on a socket: accepts and hands each connection to the handler, counting the listener's
/// downstream bytes. Stopping it stops accepting, drains, then resets what is left and waits for every handler to end.
/// </summary>
internal sealed partial class SocketTcpListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly TcpProxyHandler _handler;
    private readonly ListenerStats _stats;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<SocketRelayEnd, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;

    public SocketTcpListener(IPEndPoint endPoint, TcpProxyHandler handler, ListenerStats stats, TimeProvider timeProvider, ILogger logger)
    {
        _handler = handler;
        _stats = stats;
        _time = timeProvider;
        _logger = logger;
        _socket = ListenSocket.Bind(endPoint, backlog: 512);
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
            _stats.ConnectionOpened();
            var downstream = new SocketRelayEnd(accepted, _stats);
            // Registered before it runs, so a connection that ends at once is still removed.
            var serve = new Task<Task>(() => ServeAsync(downstream));
            _connections[downstream] = serve.Unwrap();
            serve.Start(TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(SocketRelayEnd downstream)
    {
        try
        {
            await _handler.HandleAsync(downstream, downstreamFeatures: null, _stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(downstream, out _);
            _stats.ConnectionClosed();
        }
    }

    /// <summary>Stops accepting, waits up to <paramref name="drainTimeout"/> for open connections, then resets the rest and waits for their handlers.</summary>
    public async Task StopAsync(TimeSpan drainTimeout)
    {
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        var open = Task.WhenAll(_connections.Values);
        if (!open.IsCompleted && drainTimeout > TimeSpan.Zero)
        {
            await Task.WhenAny(open, Task.Delay(drainTimeout, _time)).ConfigureAwait(false);
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
        }
        // Handlers end promptly once their downstream is reset and any connect in progress is canceled.
        await open.ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => new(StopAsync(TimeSpan.Zero));

    private static partial class Log
    {
        [LoggerMessage(EventIds.TcpProxyAcceptError, LogLevel.Warning, "TCP proxy listener {EndPoint}: accept failed.")]
        public static partial void AcceptError(ILogger logger, IPEndPoint endPoint, Exception exception);
    }
}
