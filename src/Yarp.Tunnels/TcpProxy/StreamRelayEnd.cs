using System.IO.Pipelines;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>The client end of an internal connection opened by the TCP proxy.</summary>
internal sealed class StreamRelayEnd(InternalStream stream) : RelayEnd
{
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => stream.ReadAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => stream.WriteAsync(data, cancellationToken);

    public override PipeReader? Input => stream.Input;

    public override PipeWriter? Output => stream.Output;

    public override int OutputChunkSize => stream.WriteChunkSize;

    public override void OnPipeBytes(long count, bool read) => stream.CountPipeBytes(count, read);

    public override void ShutdownWrite() => stream.CompleteWrites();

    public override void Abort() => stream.Abort();

    public override ValueTask DisposeAsync() => stream.DisposeAsync();
}
