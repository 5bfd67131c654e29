using System.IO.Pipelines;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>The client end of an internal connection opened by the TCP proxy; the relay uses its pipes directly.</summary>
internal sealed class StreamRelayEnd(InternalStream stream) : RelayEnd
{
    public override PipeReader Input => stream.Input;

    public override PipeWriter Output => stream.Output;

    public override int MaxWriteSize => stream.MaxWriteSize;

    public override void CountBytes(long count, bool read) => stream.CountPipeBytes(count, read);

    public override void ShutdownWrite() => stream.CompleteWrites();

    public override void Abort() => stream.Reset();

    public override ValueTask DisposeAsync() => stream.DisposeAsync();
}
