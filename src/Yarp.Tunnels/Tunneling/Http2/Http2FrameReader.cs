using System.Buffers;
using System.IO.Pipelines;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// Reads whole frames from a connection's input, refusing (FRAME_SIZE_ERROR) any frame longer than the
/// SETTINGS_MAX_FRAME_SIZE this side advertised before buffering it, so a peer cannot make us hold more than one frame.
/// </summary>
internal sealed class Http2FrameReader(PipeReader input, int maxFrameSize)
{
    private SequencePosition? _consumed;

    /// <summary>
    /// The next frame; its payload is valid until the next call. Null when the input ended between frames.
    /// </summary>
    /// <exception cref="Http2ConnectionException">The frame is too long, or the input ended inside one.</exception>
    public async ValueTask<(Http2FrameHeader Header, ReadOnlySequence<byte> Payload)?> ReadAsync(CancellationToken cancellationToken)
    {
        if (_consumed is { } consumed)
        {
            input.AdvanceTo(consumed);
            _consumed = null;
        }
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (TryParse(buffer, out var header, out var payload))
            {
                _consumed = payload.End;
                return (header, payload);
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.End);
                if (buffer.IsEmpty)
                {
                    return null;
                }
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "The connection ended inside a frame.");
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private bool TryParse(ReadOnlySequence<byte> buffer, out Http2FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        header = default;
        if (buffer.Length < Http2FrameHeader.Size)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[Http2FrameHeader.Size];
        buffer.Slice(0, Http2FrameHeader.Size).CopyTo(bytes);
        header = Http2FrameHeader.Read(bytes);
        if (header.Length > maxFrameSize)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError,
                $"A {header.Type} frame of {header.Length} octets exceeds SETTINGS_MAX_FRAME_SIZE {maxFrameSize}.");
        }
        if (buffer.Length < Http2FrameHeader.Size + header.Length)
        {
            return false;
        }
        payload = buffer.Slice(Http2FrameHeader.Size, header.Length);
        return true;
    }
}
