using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>A connection accepted by an internal listener, read and written through its pipes.</summary>
internal sealed class ConnectionRelayEnd(ConnectionContext connection) : RelayEnd
{
    public ConnectionContext Connection { get; } = connection;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var input = Connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (PipeReads.TryCopy(input, result, buffer.Span, out var count))
            {
                return count;
            }
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var result = await Connection.Transport.Output.WriteInLargeSegmentsAsync(data, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new ConnectionResetException("The downstream connection closed its input.");
        }
    }

    public override PipeReader? Input => Connection.Transport.Input;

    public override PipeWriter? Output => Connection.Transport.Output;

    public override int OutputChunkSize => Connection is InternalServerConnection { WriteChunkSize: var size } ? size : base.OutputChunkSize;

    public override void ShutdownWrite() => Connection.Transport.Output.Complete();

    public override void Abort() => Connection.Abort(new ConnectionAbortedException("The TCP proxy reset the connection."));

    public override ValueTask DisposeAsync()
    {
        Connection.Transport.Output.Complete();
        Connection.Transport.Input.Complete();
        return Connection.DisposeAsync();
    }
}
