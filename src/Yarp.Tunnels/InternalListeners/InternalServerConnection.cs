using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>The listener end of an internal connection, as Kestrel or a TCP proxy handler sees it.</summary>
internal sealed class InternalServerConnection : ServerConnection
{
    private readonly InternalConnectionPair _pair;
    private int _disposed;

    public InternalServerConnection(InternalConnectionPair pair, InternalConnectionInfo info)
        : base("internal")
    {
        _pair = pair;
        Transport = new DuplexPipe(pair.ClientToServer.Reader, pair.ServerToClient.Writer);
        LocalEndPoint = new InternalEndPoint(pair.Listener.Name, pair.Listener.BufferSizeKb);
        RemoteEndPoint = LocalEndPoint;
        Features.Set<IInternalConnectionFeature>(info);
    }

    /// <summary>The most a relay puts into the output pipe per flush.</summary>
    public int MaxWriteSize => _pair.MaxWriteSize;

    /// <summary>Resets the connection: pending reads and flushes of both ends wake, and the client end reads a reset error.</summary>
    public override void Abort(ConnectionAbortedException abortReason) => _pair.Reset();

    /// <summary>Called when the client end closed both directions.</summary>
    public void SignalClosed()
    {
        if (!Closed.IsCancellationRequested)
        {
            ConnectionClosedSignal.Fire(Closed);
        }
    }

    public override ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Called by the handler once it stopped using the transport: it owns these halves.
            _pair.ServerToClient.Writer.Complete(_pair.IsReset
                ? new ConnectionResetException($"The internal connection to '{_pair.Listener.Name}' was reset by the listener.")
                : null);
            _pair.ClientToServer.Reader.Complete();
            SignalClosed();
            _pair.Listener.OnServerConnectionClosed(this);
        }
        return default;
    }
}
