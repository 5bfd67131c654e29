using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// One client stream of an <see cref="Http2Connection"/>, as a <see cref="RelayEnd"/>: its received DATA is
/// <see cref="Input"/>, <see cref="WriteAsync"/> sends DATA within the flow-control windows, <see cref="ShutdownWrite"/>
/// sends END_STREAM and <see cref="Abort"/> sends RST_STREAM CANCEL. The peer's END_STREAM (or trailers) completes the
/// input; its RST_STREAM fails it. Received data waits in a pipe that never pauses: the receive window bounds it, and an
/// idle stream holds no buffer.
/// </summary>
internal sealed class Http2Stream : RelayEnd
{
    private static readonly IReadOnlyList<KeyValuePair<string, string>> NoTrailers = [];

    // Never pauses: the receive window bounds what a stream buffers (a peer that overruns it is a FLOW_CONTROL_ERROR).
    private static readonly PipeOptions InboundOptions = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);

    private readonly Http2Connection _connection;
    private readonly Pipe _inbound;
    private readonly Http2StreamInput _input;
    private readonly TaskCompletionSource<Http2Response> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<IReadOnlyList<KeyValuePair<string, string>>> _trailers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _windowSize;
    private int _receiveWindow;
    private int _unacknowledged;
    private bool _localClosed;     // END_STREAM asked for
    private bool _endStreamSent;   // ... and written
    private bool _remoteClosed;    // the peer's END_STREAM (or trailers) received
    private bool _reset;           // RST_STREAM sent or received, or the connection closed
    private bool _inboundCompleted;
    private bool _closed;          // reported to the connection

    public Http2Stream(Http2Connection connection, int receiveWindow)
    {
        _connection = connection;
        _windowSize = receiveWindow;
        _receiveWindow = receiveWindow;
        _inbound = new Pipe(InboundOptions);
        _input = new Http2StreamInput(_inbound.Reader, this);
    }

    public int Id { get; private set; }

    /// <summary>The peer's credit for this stream's DATA; set when the stream id is allocated.</summary>
    public Http2SendWindow SendWindow { get; private set; } = null!;

    /// <summary>The final response headers; fails with <see cref="Http2StreamException"/> or <see cref="Http2ConnectionException"/>.</summary>
    public Task<Http2Response> Response => _response.Task;

    /// <summary>The trailers, when the stream ends (empty when it ended without them or was reset).</summary>
    public Task<IReadOnlyList<KeyValuePair<string, string>>> Trailers => _trailers.Task;

    public override PipeReader Input => _input;

    /// <summary>Called under the connection's lock when the stream's HEADERS is about to be written.</summary>
    public void Open(int id, int peerInitialWindow)
    {
        Id = id;
        SendWindow = new Http2SendWindow(peerInitialWindow);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            // All the credit there is, up to a 64 KiB batch: the writer cuts it into frames and sends them at once.
            var streamCredit = await SendWindow.TakeAsync(Math.Min(data.Length, PipeWriterExtensions.MaxBlockSize), cancellationToken).ConfigureAwait(false);
            int credit;
            try
            {
                credit = await _connection.SendWindow.TakeAsync(streamCredit, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                SendWindow.TryAdd(streamCredit);
                throw;
            }
            if (credit < streamCredit)
            {
                SendWindow.TryAdd(streamCredit - credit);
            }
            if (!await _connection.Writer.TryWriteDataAsync(this, data[..credit], cancellationToken).ConfigureAwait(false))
            {
                // Not sent (reset meanwhile, or canceled): the credit goes back, or the connection window would shrink
                // for good and, once exhausted, stall every stream on the connection.
                _connection.SendWindow.TryAdd(credit);
                SendWindow.TryAdd(credit);
                cancellationToken.ThrowIfCancellationRequested();
                throw new ConnectionResetException("The HTTP/2 stream was reset.");
            }
            data = data[credit..];
        }
    }

    /// <summary>DATA may still be sent: neither END_STREAM asked for nor RST_STREAM sent or received.</summary>
    public bool CanSendData
    {
        get
        {
            lock (this)
            {
                return !_reset && !_localClosed;
            }
        }
    }

    public override void ShutdownWrite()
    {
        lock (this)
        {
            if (_localClosed || _reset)
            {
                return;
            }
            _localClosed = true;
        }
        _connection.SendEndStream(this);
    }

    public override void Abort() => Reset(Http2ErrorCode.Cancel);

    public override ValueTask DisposeAsync()
    {
        bool open;
        lock (this)
        {
            open = !_closed && !_reset;
        }
        if (open)
        {
            // Disposed before both sides ended (a failed opening, a relay that stopped early): the peer must not wait.
            Reset(Http2ErrorCode.Cancel);
        }
        lock (this)
        {
            CompleteInbound(null);
        }
        _inbound.Reader.Complete();
        _response.TrySetException(new Http2StreamException(Http2ErrorCode.Cancel, "The stream was disposed.", byPeer: false));
        _trailers.TrySetResult(NoTrailers);
        return default;
    }

    /// <summary>Sends RST_STREAM with <paramref name="code"/> (once) and fails both directions.</summary>
    public void Reset(Http2ErrorCode code)
    {
        lock (this)
        {
            if (_reset || _closed)
            {
                return;
            }
            _reset = true;
        }
        SendWindow?.Close("The HTTP/2 stream was reset.");
        _input.CancelPendingRead();
        _response.TrySetException(new Http2StreamException(code, $"The stream was reset ({code}): the response was malformed or the opening was abandoned.", byPeer: false));
        _trailers.TrySetResult(NoTrailers);
        if (Id == 0)
        {
            return;
        }
        _connection.SendReset(this, code);
    }

    /// <summary>Reserves <paramref name="length"/> octets of the receive window for a DATA frame; false is a flow-control violation.</summary>
    public bool TryReceive(int length)
    {
        lock (this)
        {
            if (length > _receiveWindow)
            {
                return false;
            }
            _receiveWindow -= length;
            return true;
        }
    }

    /// <summary>Delivers a DATA frame's payload (already counted by <see cref="TryReceive"/>). Returns a stream error code, or null.</summary>
    public Http2ErrorCode? OnData(ReadOnlySequence<byte> data, int padding, bool endStream)
    {
        bool closed;
        lock (this)
        {
            if (_remoteClosed)
            {
                return Http2ErrorCode.StreamClosed;
            }
            if (!_reset && !_response.Task.IsCompletedSuccessfully)
            {
                // DATA before the response headers (RFC 9113 §8.1).
                return Http2ErrorCode.ProtocolError;
            }
            if (!_inboundCompleted && !_reset)
            {
                foreach (var segment in data)
                {
                    _inbound.Writer.Write(segment.Span);
                }
                // Never pauses (pauseWriterThreshold 0): completes at once.
                _inbound.Writer.FlushAsync().GetAwaiter().GetResult();
            }
            closed = endStream && EndRemote();
        }
        if (padding > 0)
        {
            OnConsumed(padding);
        }
        if (closed)
        {
            _connection.OnStreamClosed(this, resetByUs: false);
        }
        return null;
    }

    /// <summary>Handles a complete header block: the response, a 1xx to skip, or trailers. Returns a stream error code, or null.</summary>
    public Http2ErrorCode? OnHeaders(List<KeyValuePair<string, string>> fields, bool endStream)
    {
        bool closed;
        lock (this)
        {
            if (_remoteClosed)
            {
                return Http2ErrorCode.StreamClosed;
            }
            if (_reset)
            {
                return null;
            }
            if (!_response.Task.IsCompleted)
            {
                if (fields.Count == 0 || fields[0].Key != ":status" || fields[0].Value.Length != 3
                    || !int.TryParse(fields[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status < 100)
                {
                    return Http2ErrorCode.ProtocolError;
                }
                for (var i = 1; i < fields.Count; i++)
                {
                    if (fields[i].Key.StartsWith(':'))
                    {
                        return Http2ErrorCode.ProtocolError;
                    }
                }
                if (status < 200)
                {
                    // Informational: the final response follows (RFC 9113 §8.1); it cannot end the stream.
                    return endStream ? Http2ErrorCode.ProtocolError : null;
                }
                _response.TrySetResult(new Http2Response(status, fields.GetRange(1, fields.Count - 1)));
                closed = endStream && EndRemote();
            }
            else
            {
                if (!endStream || fields.Exists(f => f.Key.StartsWith(':')))
                {
                    // Trailers end the stream and carry no pseudo-headers (RFC 9113 §8.1).
                    return Http2ErrorCode.ProtocolError;
                }
                _trailers.TrySetResult(fields);
                closed = EndRemote();
            }
        }
        if (closed)
        {
            _connection.OnStreamClosed(this, resetByUs: false);
        }
        return null;
    }

    /// <summary>The peer reset the stream (or refused it with GOAWAY, or the connection closed): both directions fail.</summary>
    public void OnReset(Exception error)
    {
        lock (this)
        {
            if (_closed)
            {
                return;
            }
            _reset = true;
            _closed = true;
            CompleteInbound(new ConnectionResetException(error.Message, error));
        }
        SendWindow?.Close(error.Message);
        _response.TrySetException(error);
        _trailers.TrySetResult(NoTrailers);
    }

    /// <summary>END_STREAM was written: the stream closes if the peer ended too.</summary>
    public void OnEndStreamSent()
    {
        lock (this)
        {
            _endStreamSent = true;
            if (!_remoteClosed || _closed || _reset)
            {
                return;
            }
            _closed = true;
        }
        _connection.OnStreamClosed(this, resetByUs: false);
    }

    /// <summary>RST_STREAM was written (or the connection failed writing it): the stream is closed.</summary>
    public void OnResetSent()
    {
        lock (this)
        {
            if (_closed)
            {
                return;
            }
            _closed = true;
        }
        _connection.OnStreamClosed(this, resetByUs: true);
    }

    /// <summary>The relay consumed <paramref name="count"/> octets: give them back as stream credit in batches of half the window.</summary>
    public void OnConsumed(int count)
    {
        int increment;
        lock (this)
        {
            _unacknowledged += count;
            if (_unacknowledged < _windowSize / 2 || _remoteClosed || _reset)
            {
                return;
            }
            increment = _unacknowledged;
            _unacknowledged = 0;
            _receiveWindow += increment;
        }
        _connection.SendWindowUpdate(Id, increment);
    }

    /// <summary>Under the lock: the peer's END_STREAM completes the input; true when the stream is now closed (we ended too).</summary>
    private bool EndRemote()
    {
        _remoteClosed = true;
        CompleteInbound(null);
        _trailers.TrySetResult(NoTrailers);
        if (_endStreamSent && !_closed && !_reset)
        {
            _closed = true;
            return true;
        }
        return false;
    }

    private void CompleteInbound(Exception? error)
    {
        if (!_inboundCompleted)
        {
            _inboundCompleted = true;
            _inbound.Writer.Complete(error);
        }
    }
}
