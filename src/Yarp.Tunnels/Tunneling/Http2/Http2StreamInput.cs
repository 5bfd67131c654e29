using System.Buffers;
using System.IO.Pipelines;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// The read side of a stream: the received DATA, read in place by the relay. Consuming data gives the bytes back to the
/// peer as stream flow-control credit, so what a stream buffers never exceeds its receive window.
/// </summary>
internal sealed class Http2StreamInput(PipeReader inner, Http2Stream stream) : PipeReader
{
    private ReadOnlySequence<byte> _last;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        _last = result.Buffer;
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }
        _last = result.Buffer;
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var count = _last.Slice(_last.Start, consumed).Length;
        _last = default;
        inner.AdvanceTo(consumed, examined);
        if (count > 0)
        {
            stream.OnConsumed((int)count);
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);
}
