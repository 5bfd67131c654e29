using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling;

/// <summary>
/// An HTTP/1.1 POST tunnel: bytes written become chunks of the request body (a half-close sends the last chunk); bytes
/// read are the response body, decoded by its framing (chunked with trailers, Content-Length, or close-delimited).
/// </summary>
internal sealed class Http1PostRelayEnd : RelayEnd
{
    private const int BufferSize = 16 * 1024;
    private const int MaxLineBytes = 4096;
    private const int MaxTrailerBytes = Http1ResponseHead.MaxBytes;
    private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();

    private readonly RelayEnd _inner;
    private readonly Http1BodyFraming _framing;
    private readonly TaskCompletionSource<IReadOnlyList<KeyValuePair<string, string>>> _trailers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private long _remaining;
    private State _state;
    private List<KeyValuePair<string, string>>? _trailerFields;
    private int _trailerBytes;
    private Task? _lastChunk;

    /// <param name="inner">The connection the POST was sent on.</param>
    /// <param name="framing">The response body's framing.</param>
    /// <param name="contentLength">The body length for <see cref="Http1BodyFraming.Length"/>.</param>
    /// <param name="early">Body bytes read with the head (a pooled buffer this end now owns), or null.</param>
    /// <param name="earlyStart">Where they start in <paramref name="early"/>.</param>
    /// <param name="earlyEnd">Where they end.</param>
    public Http1PostRelayEnd(RelayEnd inner, Http1BodyFraming framing, long contentLength, byte[]? early, int earlyStart, int earlyEnd)
    {
        _inner = inner;
        _framing = framing;
        _remaining = contentLength;
        _buffer = early;
        _start = earlyStart;
        _end = earlyEnd;
        _state = framing == Http1BodyFraming.Chunked ? State.ChunkSize : State.Data;
        if (framing != Http1BodyFraming.Chunked)
        {
            _trailers.TrySetResult(TunnelOpenResult.NoHeaders);
        }
    }

    private enum State
    {
        ChunkSize,
        Data,
        DataEnd,
        Trailers,
        Done,
    }

    /// <summary>Completes at the end of the response body with its trailers (empty when it has none).</summary>
    public Task<IReadOnlyList<KeyValuePair<string, string>>> Trailers => _trailers.Task;

    public override EndPoint? LocalEndPoint => _inner.LocalEndPoint;

    public override EndPoint? RemoteEndPoint => _inner.RemoteEndPoint;

    public override ValueTask WaitForDataAsync(CancellationToken cancellationToken) =>
        _end > _start || _state == State.Done ? default : _inner.WaitForDataAsync(cancellationToken);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            switch (_state)
            {
                case State.Done:
                    return 0;
                case State.Data when _framing == Http1BodyFraming.Close:
                    if (_end > _start)
                    {
                        return Take(buffer.Span, _end - _start);
                    }
                    return await _inner.ReadCopyAsync(buffer, cancellationToken).ConfigureAwait(false) is var read and > 0 ? read : Finish();
                case State.Data:
                    if (_remaining == 0)
                    {
                        _state = _framing == Http1BodyFraming.Chunked ? State.DataEnd : State.Done;
                        if (_state == State.Done)
                        {
                            return Finish();
                        }
                        continue;
                    }
                    if (_end == _start)
                    {
                        // Nothing buffered: straight into the caller's buffer, up to the chunk's (or body's) end.
                        var direct = await _inner.ReadCopyAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
                        if (direct == 0)
                        {
                            throw new IOException("The upstream closed the POST tunnel's response body before its end.");
                        }
                        _remaining -= direct;
                        return direct;
                    }
                    var count = Take(buffer.Span, (int)Math.Min(_end - _start, _remaining));
                    _remaining -= count;
                    return count;
                case State.DataEnd:
                    if (!TryTakeLine(out var empty))
                    {
                        await FillAsync(cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    if (empty.Length != 0)
                    {
                        throw new IOException("The upstream's chunked response body is malformed (no CRLF after a chunk).");
                    }
                    _state = State.ChunkSize;
                    continue;
                case State.ChunkSize:
                    if (!TryTakeLine(out var sizeLine))
                    {
                        await FillAsync(cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    _remaining = ParseChunkSize(sizeLine);
                    _state = _remaining == 0 ? State.Trailers : State.Data;
                    continue;
                case State.Trailers:
                    if (!TryTakeLine(out var trailer))
                    {
                        await FillAsync(cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    if (trailer.Length == 0)
                    {
                        return Finish();
                    }
                    AddTrailer(trailer);
                    continue;
            }
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (data.IsEmpty)
        {
            return;
        }
        // One write per chunk: size line, data and CRLF together.
        var chunk = ArrayPool<byte>.Shared.Rent(data.Length + 20);
        try
        {
            var header = Encoding.ASCII.GetBytes(data.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n", chunk);
            data.Span.CopyTo(chunk.AsSpan(header));
            "\r\n"u8.CopyTo(chunk.AsSpan(header + data.Length));
            await _inner.WriteAsync(chunk.AsMemory(0, header + data.Length + 2), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    public override void CountBytes(long count, bool read) => _inner.CountBytes(count, read);

    /// <summary>Ends the request body with the last chunk; the connection stays open for the rest of the response.</summary>
    public override void ShutdownWrite() => _lastChunk ??= SendLastChunkAsync();

    public override void Abort()
    {
        _trailers.TrySetResult(TunnelOpenResult.NoHeaders);
        _inner.Abort();
    }

    public override async ValueTask DisposeAsync()
    {
        if (_lastChunk is { } lastChunk)
        {
            await lastChunk.ConfigureAwait(false);
        }
        _trailers.TrySetResult(TunnelOpenResult.NoHeaders);
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
        await _inner.DisposeAsync().ConfigureAwait(false);
    }

    private async Task SendLastChunkAsync()
    {
        try
        {
            await _inner.WriteAsync(LastChunk, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // The connection is gone; the reading loop sees it too.
        }
    }

    private int Finish()
    {
        _state = State.Done;
        _trailers.TrySetResult(_trailerFields ?? (IReadOnlyList<KeyValuePair<string, string>>)TunnelOpenResult.NoHeaders);
        return 0;
    }

    private int Take(Span<byte> destination, int available)
    {
        var count = Math.Min(destination.Length, available);
        _buffer.AsSpan(_start, count).CopyTo(destination);
        _start += count;
        return count;
    }

    /// <summary>Takes one CRLF-terminated line from the buffer (without the CRLF), or returns false when it is not all there.</summary>
    private bool TryTakeLine(out ReadOnlySpan<byte> line)
    {
        var data = _buffer.AsSpan(_start, _end - _start);
        var end = data.IndexOf("\r\n"u8);
        if (end < 0)
        {
            if (data.Length >= MaxLineBytes)
            {
                throw new IOException($"The upstream's chunked response body has a line longer than {MaxLineBytes} bytes.");
            }
            line = default;
            return false;
        }
        line = data[..end];
        _start += end + 2;
        return true;
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        _buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        var read = await _inner.ReadCopyAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new IOException("The upstream closed the POST tunnel's chunked response body before its last chunk.");
        }
        _end += read;
    }

    private static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        var extensions = line.IndexOf((byte)';');
        var digits = (extensions < 0 ? line : line[..extensions]).TrimEnd(" \t"u8);
        if (digits.Length is 0 or > 15 || !long.TryParse(Encoding.ASCII.GetString(digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size))
        {
            throw new IOException("The upstream's chunked response body has a malformed chunk size.");
        }
        return size;
    }

    private void AddTrailer(ReadOnlySpan<byte> line)
    {
        _trailerBytes += line.Length + 2;
        var colon = line.IndexOf((byte)':');
        if (_trailerBytes > MaxTrailerBytes || colon <= 0)
        {
            throw new IOException("The upstream's trailers are malformed or exceed the limit.");
        }
        (_trailerFields ??= []).Add(new(Encoding.ASCII.GetString(line[..colon]), Encoding.Latin1.GetString(line[(colon + 1)..].Trim(" \t"u8))));
    }
}
