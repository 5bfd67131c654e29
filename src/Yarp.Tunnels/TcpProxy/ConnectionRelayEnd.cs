using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>A connection accepted by an internal listener, read and written through its transport pipes.</summary>
internal sealed class ConnectionRelayEnd(ConnectionContext connection) : RelayEnd
{
    private int _aborted;

    public override PipeReader Input => connection.Transport.Input;

    public override PipeWriter Output => connection.Transport.Output;

    public override EndPoint? LocalEndPoint => connection.LocalEndPoint;

    public override EndPoint? RemoteEndPoint => connection.RemoteEndPoint;

    public override int MaxWriteSize => connection is InternalServerConnection { MaxWriteSize: var size } ? size : base.MaxWriteSize;

    public override void ShutdownWrite() => connection.Transport.Output.Complete();

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            // Wakes this relay's own loops on the transport, then resets the connection for its other end.
            connection.Transport.Input.CancelPendingRead();
            connection.Transport.Output.CancelPendingFlush();
            connection.Abort(new ConnectionAbortedException("The TCP proxy reset the connection."));
        }
    }

    public override async ValueTask DisposeAsync()
    {
        connection.Transport.Output.Complete(Volatile.Read(ref _aborted) != 0 ? new ConnectionResetException("The TCP proxy reset the connection.") : null);
        connection.Transport.Input.Complete();
        await connection.DisposeAsync().ConfigureAwait(false);
    }
}
