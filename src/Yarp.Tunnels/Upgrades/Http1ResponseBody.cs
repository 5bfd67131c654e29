using System.Globalization;
using System.Net.Http;
using System.Text;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// The body of a backend's answer that refused an upgrade (<see cref="Http1UpgradeExchange"/>), read from the connection
/// with the answer's framing: a Content-Length, chunked (RFC 9112 §7.1; trailers are read and dropped), or until the
/// backend closes. The connection is not owned: the forwarder closes it once the answer was relayed.
/// </summary>
internal sealed class Http1ResponseBody : Stream
{
    private const int MaxLineBytes = 8 * 1024;

    private readonly RelayEnd _connection;
    private readonly bool _chunked;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;
    private long _remaining;
    private bool _done;

    /// <param name="connection">The backend connection, positioned after the response head.</param>
    /// <param name="buffered">Bytes already read after the head.</param>
    /// <param name="length">The Content-Length; null for chunked or until close.</param>
    /// <param name="chunked">Whether the body is chunked.</param>
    public Http1ResponseBody(RelayEnd connection, byte[] buffered, long? length, bool chunked)
    {
        _connection = connection;
        _chunked = chunked;
        _buffer = buffered.Length >= MaxLineBytes ? buffered : new byte[MaxLineBytes];
        buffered.CopyTo(_buffer, 0);
        _end = buffered.Length;
        // Content-Length: bytes left. Chunked: bytes left in the current chunk. Until close: -1.
        _remaining = chunked ? 0 : length ?? -1;
        _done = length == 0;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_done || buffer.IsEmpty)
        {
            return 0;
        }
        if (!_chunked)
        {
            var wanted = _remaining < 0 ? buffer : buffer[..(int)Math.Min(buffer.Length, _remaining)];
            var read = await ReadSomeAsync(wanted, cancellationToken).ConfigureAwait(false);
            if (_remaining < 0)
            {
                _done = read == 0;
                return read;
            }
            if (read == 0)
            {
                throw new HttpRequestException("The backend closed the connection before the end of its response body.");
            }
            _remaining -= read;
            _done = _remaining == 0;
            return read;
        }
        if (_remaining == 0)
        {
            var sizeLine = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            var extension = sizeLine.IndexOf(';');
            var size = (extension >= 0 ? sizeLine[..extension] : sizeLine).Trim(' ', '\t');
            if (size.Length is 0 or > 15 || !long.TryParse(size, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _remaining))
            {
                throw new HttpRequestException("The backend sent an invalid chunk size.");
            }
            if (_remaining == 0)
            {
                while ((await ReadLineAsync(cancellationToken).ConfigureAwait(false)).Length > 0)
                {
                    // A trailer field: dropped (the forwarder relays no trailers for a refused upgrade).
                }
                _done = true;
                return 0;
            }
        }
        var chunk = await ReadSomeAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
        if (chunk == 0)
        {
            throw new HttpRequestException("The backend closed the connection inside a chunk of its response body.");
        }
        _remaining -= chunk;
        if (_remaining == 0 && (await ReadLineAsync(cancellationToken).ConfigureAwait(false)).Length > 0)
        {
            throw new HttpRequestException("The backend sent a chunk longer than its size.");
        }
        return chunk;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The body is read asynchronously.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Bytes already buffered first, then straight from the connection into the caller's buffer.</summary>
    private ValueTask<int> ReadSomeAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_end > _start)
        {
            var count = Math.Min(destination.Length, _end - _start);
            _buffer.AsMemory(_start, count).CopyTo(destination);
            _start += count;
            return new ValueTask<int>(count);
        }
        return _connection.ReadAsync(destination, cancellationToken);
    }

    /// <summary>One CRLF- (or LF-) terminated line, without its terminator.</summary>
    private async ValueTask<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _buffer.AsSpan(_start, newline);
                _start += newline + 1;
                return Encoding.Latin1.GetString(line.EndsWith("\r"u8) ? line[..^1] : line);
            }
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                (_start, _end) = (0, _end - _start);
            }
            if (_end >= MaxLineBytes)
            {
                throw new HttpRequestException($"The backend sent a chunk-size or trailer line longer than {MaxLineBytes} bytes.");
            }
            var read = await _connection.ReadAsync(_buffer.AsMemory(_end, MaxLineBytes - _end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new HttpRequestException("The backend closed the connection inside its chunked response body.");
            }
            _end += read;
        }
    }
}
