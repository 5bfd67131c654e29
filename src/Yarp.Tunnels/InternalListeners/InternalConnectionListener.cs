using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>The Kestrel side of an internal endpoint: connections opened through the registry queue here until Kestrel accepts them.</summary>
internal sealed class InternalConnectionListener : IConnectionListener, IInternalConnectionAcceptor
{
    // Like a socket's listen backlog: connections Kestrel has not picked up yet.
    internal const int Backlog = 4096;

    private readonly Channel<ConnectionContext> _pending = Channel.CreateBounded<ConnectionContext>(
        new BoundedChannelOptions(Backlog) { SingleReader = false, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });
    private readonly Action<InternalConnectionListener> _onUnbind;
    private volatile bool _unbound;

    public InternalConnectionListener(InternalEndPoint endPoint, Action<InternalConnectionListener> onUnbind)
    {
        EndPoint = endPoint;
        _onUnbind = onUnbind;
    }

    public EndPoint EndPoint { get; }

    public bool TryAccept(ConnectionContext connection)
    {
        if (_pending.Writer.TryWrite(connection))
        {
            return true;
        }
        // TryWrite fails on a full channel and on a completed one; only the first is a listener still bound.
        return _unbound ? false : throw new InternalListenerBusyException(((InternalEndPoint)EndPoint).Name, Backlog);
    }

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
        _unbound = true;
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
