using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// Writes frames to a connection's output, one frame (or one header block) at a time under a lock, so frames of
/// different streams never interleave and header blocks stay in HPACK order. Frames are cut to the peer's
/// SETTINGS_MAX_FRAME_SIZE; each write waits for the output to flush, so a peer that stops reading stalls writers
/// instead of growing a buffer.
/// </summary>
internal sealed class Http2FrameWriter(PipeWriter output)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly HpackEncoder _encoder = new();
    private readonly ArrayBufferWriter<byte> _headerBlock = new(256);
    private volatile int _maxFrameSize = Http2FrameHeader.MinMaxFrameSize;

    /// <summary>The peer's SETTINGS_MAX_FRAME_SIZE.</summary>
    public int MaxFrameSize
    {
        get => _maxFrameSize;
        set => _maxFrameSize = value;
    }

    public async ValueTask WritePrefaceAsync(IReadOnlyList<(Http2SettingId Id, uint Value)> settings, int connectionWindowIncrement, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            output.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8);
            var payload = output.GetSpan(Http2FrameHeader.Size + (settings.Count * 6));
            new Http2FrameHeader(settings.Count * 6, Http2FrameType.Settings, Http2Flags.None, 0).Write(payload);
            for (var i = 0; i < settings.Count; i++)
            {
                var entry = payload.Slice(Http2FrameHeader.Size + (i * 6), 6);
                BinaryPrimitives.WriteUInt16BigEndian(entry, (ushort)settings[i].Id);
                BinaryPrimitives.WriteUInt32BigEndian(entry[2..], settings[i].Value);
            }
            output.Advance(Http2FrameHeader.Size + (settings.Count * 6));
            if (connectionWindowIncrement > 0)
            {
                WriteWindowUpdateFrame(0, connectionWindowIncrement);
            }
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Encodes and writes a header block (HEADERS plus CONTINUATIONs) on the stream <paramref name="allocateStreamId"/>
    /// returns, called under the lock so stream ids go out in increasing order; it returns 0 to write nothing.
    /// </summary>
    public async ValueTask<int> WriteHeadersAsync(Func<int> allocateStreamId, IReadOnlyList<KeyValuePair<string, string>> fields, bool endStream,
        CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var streamId = allocateStreamId();
            if (streamId == 0)
            {
                return 0;
            }
            _headerBlock.ResetWrittenCount();
            _encoder.Encode(fields, _headerBlock);
            var block = _headerBlock.WrittenSpan;
            var type = Http2FrameType.Headers;
            var maxFrameSize = _maxFrameSize;
            do
            {
                var length = Math.Min(block.Length, maxFrameSize);
                var flags = length == block.Length ? Http2Flags.EndHeaders : Http2Flags.None;
                if (type == Http2FrameType.Headers && endStream)
                {
                    flags |= Http2Flags.EndStream;
                }
                WriteFrame(new Http2FrameHeader(length, type, flags, streamId), block[..length]);
                block = block[length..];
                type = Http2FrameType.Continuation;
            }
            while (!block.IsEmpty);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            return streamId;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Writes an empty DATA frame with END_STREAM.</summary>
    public ValueTask WriteEndStreamAsync(int streamId, CancellationToken cancellationToken) =>
        WriteControlAsync(writer => writer.WriteFrame(new Http2FrameHeader(0, Http2FrameType.Data, Http2Flags.EndStream, streamId), []), cancellationToken);

    /// <summary>
    /// Writes <paramref name="data"/> as DATA frames (no END_STREAM) of <paramref name="stream"/>, cut to the peer's
    /// SETTINGS_MAX_FRAME_SIZE into one contiguous buffer and flushed once (one send, not one per frame or per buffer
    /// segment), if the stream may still send: checked under the lock, so no DATA follows its RST_STREAM. False when
    /// nothing was written: the stream could not send, or the wait for the lock was canceled; the caller still holds the
    /// flow-control credit then. A failed flush after writing throws.
    /// </summary>
    public async ValueTask<bool> TryWriteDataAsync(Http2Stream stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        try
        {
            if (!stream.CanSendData)
            {
                return false;
            }
            var maxFrameSize = _maxFrameSize;
            var frames = (data.Length + maxFrameSize - 1) / maxFrameSize;
            var size = data.Length + (frames * Http2FrameHeader.Size);
            var buffer = output.GetSpan(size);
            var written = 0;
            for (var payload = data.Span; !payload.IsEmpty;)
            {
                var length = Math.Min(payload.Length, maxFrameSize);
                new Http2FrameHeader(length, Http2FrameType.Data, Http2Flags.None, stream.Id).Write(buffer[written..]);
                payload[..length].CopyTo(buffer[(written + Http2FrameHeader.Size)..]);
                written += Http2FrameHeader.Size + length;
                payload = payload[length..];
            }
            output.Advance(size);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public ValueTask WriteSettingsAckAsync(int? peerHeaderTableSize, CancellationToken cancellationToken) => WriteControlAsync(writer =>
    {
        if (peerHeaderTableSize is { } size)
        {
            // Under the lock, so the table size update goes into the next header block this writer encodes.
            writer._encoder.SetPeerMaxTableSize(size);
        }
        writer.WriteFrame(new Http2FrameHeader(0, Http2FrameType.Settings, Http2Flags.Ack, 0), []);
    }, cancellationToken);

    public ValueTask WritePingAsync(bool ack, ulong payload, CancellationToken cancellationToken) => WriteControlAsync(writer =>
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, payload);
        writer.WriteFrame(new Http2FrameHeader(8, Http2FrameType.Ping, ack ? Http2Flags.Ack : Http2Flags.None, 0), bytes);
    }, cancellationToken);

    public ValueTask WriteWindowUpdateAsync(int streamId, int increment, CancellationToken cancellationToken) =>
        WriteControlAsync(writer => writer.WriteWindowUpdateFrame(streamId, increment), cancellationToken);

    public ValueTask WriteRstStreamAsync(int streamId, Http2ErrorCode code, CancellationToken cancellationToken) => WriteControlAsync(writer =>
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)code);
        writer.WriteFrame(new Http2FrameHeader(4, Http2FrameType.RstStream, Http2Flags.None, streamId), bytes);
    }, cancellationToken);

    public ValueTask WriteGoAwayAsync(int lastStreamId, Http2ErrorCode code, CancellationToken cancellationToken) => WriteControlAsync(writer =>
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[4..], (uint)code);
        writer.WriteFrame(new Http2FrameHeader(8, Http2FrameType.GoAway, Http2Flags.None, 0), bytes);
    }, cancellationToken);

    private async ValueTask WriteControlAsync(Action<Http2FrameWriter> write, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            write(this);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    private void WriteWindowUpdateFrame(int streamId, int increment)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)increment);
        WriteFrame(new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2Flags.None, streamId), bytes);
    }

    private void WriteFrame(Http2FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var span = output.GetSpan(Http2FrameHeader.Size);
        header.Write(span);
        output.Advance(Http2FrameHeader.Size);
        output.Write(payload);
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var result = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new ConnectionResetException("The HTTP/2 connection is closed.");
        }
    }
}
