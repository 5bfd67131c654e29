using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>The Kestrel side of an internal endpoint: connections opened through the registry queue here until Kestrel accepts them.</summary>
internal sealed class InternalConnectionListener : IConnectionListener, IInternalConnectionAcceptor
{
    // Like a socket's listen backlog: connections Kestrel has not picked up yet.
    private const int Backlog = 4096;

    private readonly Channel<ConnectionContext> _pending = Channel.CreateBounded<ConnectionContext>(
        new BoundedChannelOptions(Backlog) { SingleReader = false, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });
    private readonly Action<InternalConnectionListener> _onUnbind;

    public InternalConnectionListener(InternalEndPoint endPoint, Action<InternalConnectionListener> onUnbind)
    {
        EndPoint = endPoint;
        _onUnbind = onUnbind;
    }

    public EndPoint EndPoint { get; }

    public bool TryAccept(ConnectionContext connection) => _pending.Writer.TryWrite(connection);

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (await _pending.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_pending.Reader.TryRead(out var connection))
                {
                    return connection;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        return null;
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (_pending.Writer.TryComplete())
        {
            _onUnbind(this);
            // Connections opened but never accepted are refused like a closed socket's backlog.
            while (_pending.Reader.TryRead(out var connection))
            {
                connection.Abort(new ConnectionAbortedException($"The internal listener '{EndPoint}' was unbound."));
                _ = connection.DisposeAsync();
            }
        }
        return default;
    }

    public ValueTask DisposeAsync() => UnbindAsync();
}
