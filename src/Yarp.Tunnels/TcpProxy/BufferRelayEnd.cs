using System.IO.Pipelines;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>An in-between pipe for one relay direction: one loop receives into it while another sends out of it.</summary>
internal sealed class BufferRelayEnd : RelayEnd
{
    // Enough to keep a send and the next receive overlapping; small enough for many idle-ish connections.
    private const int PauseThreshold = 512 * 1024;

    private readonly Pipe _pipe = new(new PipeOptions(
        pauseWriterThreshold: PauseThreshold, resumeWriterThreshold: PauseThreshold / 2, useSynchronizationContext: false));

    public override PipeReader Input => _pipe.Reader;

    public override PipeWriter Output => _pipe.Writer;

    public override int OutputChunkSize => 256 * 1024;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _pipe.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (PipeReads.TryCopy(_pipe.Reader, result, buffer.Span, out var count))
            {
                return count;
            }
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        await _pipe.Writer.WriteInLargeSegmentsAsync(data, cancellationToken).ConfigureAwait(false);

    public override void ShutdownWrite() => _pipe.Writer.Complete();

    // The relay aborts both real ends and cancels its token; both loops on this pipe then end on their own.
    public override void Abort()
    {
    }

    /// <summary>Returns the pipe's memory; call once both loops have ended.</summary>
    public override ValueTask DisposeAsync()
    {
        _pipe.Writer.Complete();
        _pipe.Reader.Complete();
        return default;
    }
}
