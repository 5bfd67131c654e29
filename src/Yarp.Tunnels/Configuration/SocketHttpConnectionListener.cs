using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// The listening socket of an HTTP socket listener, in place of Kestrel's socket transport (with its options): accepted
/// connections are <see cref="SocketHttpConnection"/>s, whose socket an HTTP/1.1 CONNECT tunnel can take over.
/// </summary>
internal sealed class SocketHttpConnectionListener : IConnectionListener
{
    private readonly Socket _socket;
    private readonly SocketTransportOptions _options;

    public SocketHttpConnectionListener(IPEndPoint endPoint, SocketTransportOptions options)
    {
        _options = options;
        _socket = ListenSocket.Bind(endPoint, options.Backlog);
        EndPoint = _socket.LocalEndPoint!;
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted)
            {
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // The client reset before the accept completed (as Kestrel: try the next one).
                continue;
            }
            accepted.NoDelay = _options.NoDelay;
            var connection = new SocketHttpConnection(accepted, _options.MaxReadBufferSize ?? 0, _options.MaxWriteBufferSize ?? 0);
            connection.Start();
            return connection;
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _socket.Dispose();
        return default;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return default;
    }
}
