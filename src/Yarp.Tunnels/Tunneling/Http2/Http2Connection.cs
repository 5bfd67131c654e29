using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// One client HTTP/2 connection (RFC 9113) carrying many streams: a read loop that handles every frame the peer sends,
/// connection and stream flow control, SETTINGS, PING keep-alive and GOAWAY. A protocol violation by the peer is a
/// connection error: GOAWAY with its code, then every stream fails. The pool (<see cref="Http2ConnectionPool"/>)
/// reserves capacity with <see cref="TryReserve"/> and opens streams with <see cref="OpenStreamAsync"/>.
/// </summary>
internal sealed partial class Http2Connection : IAsyncDisposable
{
    private const int MaxRecentlyReset = 1024;

    private static readonly TimeSpan GoAwayWriteTimeout = TimeSpan.FromSeconds(1);

    private readonly Http2ClientOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _name;
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<int, Http2Stream> _streams = [];
    private readonly Queue<int> _recentlyResetOrder = new();
    private readonly HashSet<int> _recentlyReset = [];
    private readonly Http2SendWindow _sendWindow = new(Http2ClientOptions.DefaultWindow);
    private Http2FrameWriter? _writer;
    private RelayEnd? _transport;
    private ITimer? _keepAlive;
    private int _nextStreamId = 1;
    private int _reserved;
    private int _active;
    private uint _peerMaxConcurrentStreams = uint.MaxValue;
    private int _peerInitialWindow = Http2ClientOptions.DefaultWindow;
    private bool _peerAllowsExtendedConnect;
    private bool _draining;
    private Exception? _closedError;

    // Read loop state (only the read loop uses these).
    private HpackDecoder? _decoder;
    private int _receiveWindow = Http2ClientOptions.DefaultWindow;
    private int _receivedUncredited;
    private readonly ArrayBufferWriter<byte> _headerBlock = new(256);
    private int _headerStreamId;
    private bool _headerEndStream;
    private long _floodWindowStart;
    private int _floodCount;

    // Keep-alive state (read loop and timer).
    private volatile bool _receivedSinceTick;
    private long _outstandingPing = -1;

    public Http2Connection(string name, Http2ClientOptions options, ILogger logger, TimeProvider timeProvider)
    {
        _name = name;
        _options = options;
        _logger = logger;
        _time = timeProvider;
    }

    /// <summary>Completes once the peer's SETTINGS arrived (streams may open); fails when connecting or the handshake failed.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Completes when the connection closed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>The peer sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441): extended CONNECT is allowed.</summary>
    public bool AllowsExtendedConnect => Volatile.Read(ref _peerAllowsExtendedConnect);

    /// <summary>Streams open or half-closed (RFC 9113 §5.1.2), the ones SETTINGS_MAX_CONCURRENT_STREAMS counts.</summary>
    public int ActiveStreams
    {
        get
        {
            lock (_streams)
            {
                return _active;
            }
        }
    }

    /// <summary>The connection takes no new streams (GOAWAY received, ids exhausted, or closed).</summary>
    public bool IsDraining
    {
        get
        {
            lock (_streams)
            {
                return _draining || _closedError is not null;
            }
        }
    }

    internal Http2SendWindow SendWindow => _sendWindow;

    internal Http2FrameWriter Writer => _writer ?? throw new InvalidOperationException("The connection is not open.");

    /// <summary>
    /// Connects with <paramref name="connect"/>, sends the preface and runs the read loop until the connection ends;
    /// connecting, TLS and the peer's SETTINGS must all happen within <paramref name="handshakeTimeout"/>.
    /// </summary>
    public void Start(Func<CancellationToken, ValueTask<RelayEnd>> connect, TimeSpan handshakeTimeout) => _ = RunAsync(connect, handshakeTimeout);

    /// <summary>Reserves room for one stream within <paramref name="limit"/> and the peer's SETTINGS_MAX_CONCURRENT_STREAMS.</summary>
    public bool TryReserve(int limit)
    {
        lock (_streams)
        {
            if (_draining || _closedError is not null || _active + _reserved >= Capacity(limit))
            {
                return false;
            }
            _reserved++;
            return true;
        }
    }

    /// <summary>Gives back a reservation that will not be used.</summary>
    public void ReleaseReservation()
    {
        lock (_streams)
        {
            _reserved--;
        }
    }

    /// <summary>
    /// Opens a stream with a reservation from <see cref="TryReserve"/> (consumed either way) and sends its HEADERS.
    /// Null when the connection has no room after all (the peer's limit turned out lower, or it started draining): try another.
    /// </summary>
    /// <exception cref="Http2ConnectionException">The connection failed.</exception>
    public async ValueTask<Http2Stream?> OpenStreamAsync(IReadOnlyList<KeyValuePair<string, string>> fields, int limit, CancellationToken cancellationToken)
    {
        var stream = new Http2Stream(this, _options.StreamReceiveWindow);
        var reserved = true;
        try
        {
            var id = await Writer.WriteHeadersAsync(() =>
            {
                lock (_streams)
                {
                    _reserved--;
                    reserved = false;
                    if (_closedError is not null || _draining || _active >= Capacity(limit))
                    {
                        return 0;
                    }
                    var streamId = _nextStreamId;
                    _nextStreamId += 2;
                    if (_nextStreamId < 0)
                    {
                        // Stream ids are exhausted (2^31): the pool opens a new connection for the next stream.
                        _draining = true;
                    }
                    stream.Open(streamId, _peerInitialWindow);
                    _streams.Add(streamId, stream);
                    _active++;
                    return streamId;
                }
            }, fields, endStream: false, cancellationToken).ConfigureAwait(false);
            return id == 0 ? null : stream;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw _closedError as Http2ConnectionException ?? new Http2ConnectionException(Http2ErrorCode.ConnectError, $"Writing to the HTTP/2 connection failed: {ex.Message}");
        }
        finally
        {
            if (reserved)
            {
                ReleaseReservation();
            }
            else if (cancellationToken.IsCancellationRequested && stream.Id != 0)
            {
                stream.Reset(Http2ErrorCode.Cancel);
            }
        }
    }

    /// <summary>Sends GOAWAY (NO_ERROR) and closes; streams still running fail.</summary>
    public ValueTask DisposeAsync()
    {
        Close(Http2ErrorCode.NoError, new Http2ConnectionException(Http2ErrorCode.NoError, "The HTTP/2 connection was closed."));
        return new ValueTask(_completion.Task);
    }

    internal void SendEndStream(Http2Stream stream) => _ = WriteAsync(stream, async (writer, token) =>
    {
        await writer.WriteEndStreamAsync(stream.Id, token).ConfigureAwait(false);
        stream.OnEndStreamSent();
    });

    internal void SendReset(Http2Stream stream, Http2ErrorCode code) => _ = WriteAsync(stream, async (writer, token) =>
    {
        try
        {
            await writer.WriteRstStreamAsync(stream.Id, code, token).ConfigureAwait(false);
        }
        finally
        {
            stream.OnResetSent();
        }
    });

    internal void SendWindowUpdate(int streamId, int increment) =>
        _ = WriteAsync(null, (writer, token) => writer.WriteWindowUpdateAsync(streamId, increment, token));

    /// <summary>Whether a stream's END_STREAM was written; a stream closes when both sides ended.</summary>
    internal void OnStreamClosed(Http2Stream stream, bool resetByUs)
    {
        bool closeNow;
        lock (_streams)
        {
            if (!_streams.Remove(stream.Id))
            {
                return;
            }
            _active--;
            if (resetByUs)
            {
                // The peer may still send frames it had in flight: ignore them (RFC 9113 §5.1) rather than fail the connection.
                _recentlyReset.Add(stream.Id);
                _recentlyResetOrder.Enqueue(stream.Id);
                if (_recentlyResetOrder.Count > MaxRecentlyReset)
                {
                    _recentlyReset.Remove(_recentlyResetOrder.Dequeue());
                }
            }
            closeNow = _draining && _active == 0 && _reserved == 0;
        }
        if (closeNow)
        {
            Close(Http2ErrorCode.NoError, new Http2ConnectionException(Http2ErrorCode.NoError, "The HTTP/2 connection was drained."));
        }
    }

    private int Capacity(int limit) => (int)Math.Min((uint)limit, _peerMaxConcurrentStreams);

    /// <summary>A stream's frame written in the background (END_STREAM, RST_STREAM, WINDOW_UPDATE); a failure closes the connection.</summary>
    private async Task WriteAsync(Http2Stream? stream, Func<Http2FrameWriter, CancellationToken, ValueTask> write)
    {
        try
        {
            await write(Writer, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            stream?.OnReset(_closedError ?? ex);
            Close(null, new Http2ConnectionException(Http2ErrorCode.ConnectError, $"Writing to the HTTP/2 connection failed: {ex.Message}"));
        }
    }

    private async Task RunAsync(Func<CancellationToken, ValueTask<RelayEnd>> connect, TimeSpan handshakeTimeout)
    {
        using var handshake = new CancellationTokenSource(handshakeTimeout, _time);
        using var registration = handshake.Token.Register(() =>
        {
            if (!_ready.Task.IsCompleted)
            {
                Close(Http2ErrorCode.SettingsTimeout, new Http2ConnectException(UpstreamFailure.Timeout,
                    $"connecting and receiving the peer's SETTINGS took longer than {handshakeTimeout}."));
            }
        });
        try
        {
            var transport = await connect(_closing.Token).ConfigureAwait(false);
            lock (_streams)
            {
                _transport = _closedError is null ? transport : null;
            }
            if (_transport is null)
            {
                await transport.DisposeAsync().ConfigureAwait(false);
                return;
            }
            var stream = new RelayEndStream(_transport);
            var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096, leaveOpen: true));
            var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
            _writer = new Http2FrameWriter(output);
            _decoder = new HpackDecoder(_options.HeaderTableSize, _options.MaxHeaderListSize);
            List<(Http2SettingId, uint)> settings =
            [
                (Http2SettingId.EnablePush, 0),
                (Http2SettingId.InitialWindowSize, (uint)_options.StreamReceiveWindow),
                (Http2SettingId.MaxHeaderListSize, (uint)_options.MaxHeaderListSize),
            ];
            if (_options.HeaderTableSize != HpackEncoder.DefaultTableSize)
            {
                settings.Add((Http2SettingId.HeaderTableSize, (uint)_options.HeaderTableSize));
            }
            if (_options.MaxFrameSize != Http2FrameHeader.MinMaxFrameSize)
            {
                settings.Add((Http2SettingId.MaxFrameSize, (uint)_options.MaxFrameSize));
            }
            var windowIncrement = _options.ConnectionReceiveWindow - Http2ClientOptions.DefaultWindow;
            await _writer.WritePrefaceAsync(settings, windowIncrement, _closing.Token).ConfigureAwait(false);
            _receiveWindow += Math.Max(windowIncrement, 0);
            if (_options.KeepAliveInterval > TimeSpan.Zero && _options.KeepAliveInterval != Timeout.InfiniteTimeSpan)
            {
                _keepAlive = _time.CreateTimer(_ => OnKeepAliveTick(), null, _options.KeepAliveInterval, _options.KeepAliveInterval);
            }
            Log.Opened(_logger, _name);
            await ReadLoopAsync(new Http2FrameReader(input, _options.MaxFrameSize)).ConfigureAwait(false);
            Close(null, new Http2ConnectionException(Http2ErrorCode.ConnectError, "The peer closed the HTTP/2 connection."));
        }
        catch (Http2ConnectException ex)
        {
            Close(null, ex);
        }
        catch (Http2ConnectionException ex)
        {
            Log.ConnectionError(_logger, _name, ex.Code, ex.Message);
            Close(ex.Code, ex);
        }
        catch (Exception ex)
        {
            Close(null, _closedError ?? new Http2ConnectionException(Http2ErrorCode.ConnectError, $"The HTTP/2 connection failed: {ex.Message}"));
        }
    }

    private async Task ReadLoopAsync(Http2FrameReader reader)
    {
        var first = true;
        while (await reader.ReadAsync(_closing.Token).ConfigureAwait(false) is var (header, payload))
        {
            _receivedSinceTick = true;
            if (first && (header.Type != Http2FrameType.Settings || header.HasFlag(Http2Flags.Ack)))
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"The server preface starts with {header.Type}, not SETTINGS.");
            }
            first = false;
            if (_headerStreamId != 0 && header.Type != Http2FrameType.Continuation)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"A {header.Type} frame interrupts a header block (CONTINUATION expected).");
            }
            switch (header.Type)
            {
                case Http2FrameType.Data:
                    await OnDataAsync(header, payload).ConfigureAwait(false);
                    break;
                case Http2FrameType.Headers:
                    OnHeaders(header, payload);
                    break;
                case Http2FrameType.Continuation:
                    OnContinuation(header, payload);
                    break;
                case Http2FrameType.Priority:
                    if (header.StreamId == 0)
                    {
                        throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "PRIORITY on stream 0.");
                    }
                    if (header.Length != 5)
                    {
                        ResetStream(header.StreamId, Http2ErrorCode.FrameSizeError);
                    }
                    break;
                case Http2FrameType.RstStream:
                    OnRstStream(header, payload);
                    break;
                case Http2FrameType.Settings:
                    await OnSettingsAsync(header, payload).ConfigureAwait(false);
                    break;
                case Http2FrameType.PushPromise:
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "PUSH_PROMISE while SETTINGS_ENABLE_PUSH is 0.");
                case Http2FrameType.Ping:
                    await OnPingAsync(header, payload).ConfigureAwait(false);
                    break;
                case Http2FrameType.GoAway:
                    OnGoAway(header, payload);
                    break;
                case Http2FrameType.WindowUpdate:
                    OnWindowUpdate(header, payload);
                    break;
                default:
                    // Unknown frame types are ignored (RFC 9113 §4.1).
                    break;
            }
        }
    }

    private async ValueTask OnDataAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "DATA on stream 0.");
        }
        if (header.Length > _receiveWindow)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FlowControlError,
                $"DATA of {header.Length} octets exceeds the connection receive window ({_receiveWindow}).");
        }
        _receiveWindow -= header.Length;
        _receivedUncredited += header.Length;
        if (_receivedUncredited >= _options.ConnectionReceiveWindow / 2)
        {
            await Writer.WriteWindowUpdateAsync(0, _receivedUncredited, _closing.Token).ConfigureAwait(false);
            _receiveWindow += _receivedUncredited;
            _receivedUncredited = 0;
        }
        var padding = StripPadding(header, ref payload);
        if (Find(header.StreamId) is not { } stream)
        {
            return;
        }
        if (!stream.TryReceive(header.Length))
        {
            throw new Http2ConnectionException(Http2ErrorCode.FlowControlError,
                $"DATA of {header.Length} octets exceeds the receive window of stream {header.StreamId}.");
        }
        if (stream.OnData(payload, padding + (header.HasFlag(Http2Flags.Padded) ? 1 : 0), header.HasFlag(Http2Flags.EndStream)) is { } error)
        {
            stream.Reset(error);
        }
    }

    private void OnHeaders(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "HEADERS on stream 0.");
        }
        StripPadding(header, ref payload);
        if (header.HasFlag(Http2Flags.Priority))
        {
            if (payload.Length < 5)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "HEADERS too short for its priority fields.");
            }
            payload = payload.Slice(5);
        }
        _headerBlock.ResetWrittenCount();
        _headerStreamId = header.StreamId;
        _headerEndStream = header.HasFlag(Http2Flags.EndStream);
        AppendHeaderBlock(header, payload);
    }

    private void OnContinuation(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (_headerStreamId == 0 || header.StreamId != _headerStreamId)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"CONTINUATION on stream {header.StreamId} without a header block in progress.");
        }
        AppendHeaderBlock(header, payload);
    }

    private void AppendHeaderBlock(Http2FrameHeader header, ReadOnlySequence<byte> fragment)
    {
        if (_headerBlock.WrittenCount + fragment.Length > _options.MaxHeaderListSize)
        {
            // Bounded before decoding: a CONTINUATION flood cannot grow the buffer (HPACK state is lost, so the connection ends).
            throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm,
                $"A header block exceeds SETTINGS_MAX_HEADER_LIST_SIZE ({_options.MaxHeaderListSize} octets).");
        }
        foreach (var segment in fragment)
        {
            _headerBlock.Write(segment.Span);
        }
        if (!header.HasFlag(Http2Flags.EndHeaders))
        {
            return;
        }
        var streamId = _headerStreamId;
        _headerStreamId = 0;
        List<KeyValuePair<string, string>> fields;
        try
        {
            fields = _decoder!.Decode(_headerBlock.WrittenSpan);
        }
        catch (HpackException ex)
        {
            throw new Http2ConnectionException(Http2ErrorCode.CompressionError, $"Stream {streamId}: {ex.Message}");
        }
        if (Find(streamId) is { } stream && stream.OnHeaders(fields, _headerEndStream) is { } error)
        {
            stream.Reset(error);
        }
    }

    private void OnRstStream(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "RST_STREAM on stream 0.");
        }
        if (header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"RST_STREAM of {header.Length} octets.");
        }
        var code = (Http2ErrorCode)ReadUInt32(payload);
        if (FindOrIgnore(header.StreamId) is { } stream)
        {
            Log.StreamReset(_logger, _name, header.StreamId, code);
            stream.OnReset(new Http2StreamException(code, $"The peer reset stream {header.StreamId} ({code}).", byPeer: true));
            OnStreamClosed(stream, resetByUs: false);
        }
    }

    private async ValueTask OnSettingsAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"SETTINGS on stream {header.StreamId}.");
        }
        if (header.HasFlag(Http2Flags.Ack))
        {
            if (header.Length != 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "A SETTINGS acknowledgement with a payload.");
            }
            return;
        }
        if (header.Length % 6 != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"SETTINGS of {header.Length} octets (not a multiple of 6).");
        }
        CountControlFrame("SETTINGS");
        int? headerTableSize = null;
        var reader = new SequenceReader<byte>(payload);
        while (reader.TryReadBigEndian(out short rawId) && reader.TryReadBigEndian(out int rawValue))
        {
            var value = (uint)rawValue;
            switch ((Http2SettingId)(ushort)rawId)
            {
                case Http2SettingId.HeaderTableSize:
                    headerTableSize = (int)Math.Min(value, int.MaxValue);
                    break;
                case Http2SettingId.EnablePush when value != 0:
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"A server sent SETTINGS_ENABLE_PUSH = {value}.");
                case Http2SettingId.MaxConcurrentStreams:
                    lock (_streams)
                    {
                        _peerMaxConcurrentStreams = value;
                    }
                    break;
                case Http2SettingId.InitialWindowSize:
                    if (value > Http2SendWindow.MaxWindow)
                    {
                        throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"SETTINGS_INITIAL_WINDOW_SIZE {value} exceeds 2^31 - 1.");
                    }
                    ApplyInitialWindow((int)value);
                    break;
                case Http2SettingId.MaxFrameSize:
                    if (value is < Http2FrameHeader.MinMaxFrameSize or > Http2FrameHeader.MaxMaxFrameSize)
                    {
                        throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"SETTINGS_MAX_FRAME_SIZE {value} is outside 16384..16777215.");
                    }
                    Writer.MaxFrameSize = (int)value;
                    break;
                case Http2SettingId.EnableConnectProtocol:
                    Volatile.Write(ref _peerAllowsExtendedConnect, value == 1);
                    break;
            }
        }
        await Writer.WriteSettingsAckAsync(headerTableSize, _closing.Token).ConfigureAwait(false);
        if (_ready.TrySetResult())
        {
            Log.Ready(_logger, _name, _peerMaxConcurrentStreams);
        }
    }

    private void ApplyInitialWindow(int value)
    {
        Http2Stream[] streams;
        lock (_streams)
        {
            var delta = value - _peerInitialWindow;
            _peerInitialWindow = value;
            if (delta == 0)
            {
                return;
            }
            streams = [.. _streams.Values];
            foreach (var stream in streams)
            {
                // A change applies to every open stream's window (RFC 9113 §6.9.2), which may go negative but not overflow.
                if (!stream.SendWindow.TryAdd(delta))
                {
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError,
                        $"SETTINGS_INITIAL_WINDOW_SIZE {value} overflows the window of stream {stream.Id}.");
                }
            }
        }
    }

    private async ValueTask OnPingAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"PING on stream {header.StreamId}.");
        }
        if (header.Length != 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"PING of {header.Length} octets.");
        }
        var reader = new SequenceReader<byte>(payload);
        reader.TryReadBigEndian(out long value);
        if (header.HasFlag(Http2Flags.Ack))
        {
            Interlocked.CompareExchange(ref _outstandingPing, -1, value);
            return;
        }
        CountControlFrame("PING");
        await Writer.WritePingAsync(ack: true, (ulong)value, _closing.Token).ConfigureAwait(false);
    }

    private void OnGoAway(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"GOAWAY on stream {header.StreamId}.");
        }
        if (header.Length < 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"GOAWAY of {header.Length} octets.");
        }
        var lastStreamId = (int)(ReadUInt32(payload) & 0x7FFF_FFFF);
        var code = (Http2ErrorCode)ReadUInt32(payload.Slice(4));
        var debug = System.Text.Encoding.UTF8.GetString(payload.Slice(8, Math.Min(payload.Length - 8, 256)).ToArray());
        Log.GoAwayReceived(_logger, _name, lastStreamId, code, debug);
        List<Http2Stream> refused;
        bool closeNow;
        lock (_streams)
        {
            _draining = true;
            refused = [.. _streams.Values.Where(s => s.Id > lastStreamId)];
        }
        foreach (var stream in refused)
        {
            // Never processed by the peer (RFC 9113 §6.8): the tunnel may be opened again on a new connection.
            stream.OnReset(new Http2StreamException(Http2ErrorCode.RefusedStream, $"The peer's GOAWAY ({code}) refused stream {stream.Id}.", byPeer: true));
            OnStreamClosed(stream, resetByUs: false);
        }
        lock (_streams)
        {
            closeNow = _active == 0 && _reserved == 0;
        }
        if (closeNow)
        {
            Close(Http2ErrorCode.NoError, new Http2ConnectionException(code, $"The peer sent GOAWAY ({code})."));
        }
    }

    private void OnWindowUpdate(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"WINDOW_UPDATE of {header.Length} octets.");
        }
        var increment = (int)(ReadUInt32(payload) & 0x7FFF_FFFF);
        if (header.StreamId == 0)
        {
            if (increment == 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE of 0 on the connection.");
            }
            if (!_sendWindow.TryAdd(increment))
            {
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "WINDOW_UPDATE overflows the connection window beyond 2^31 - 1.");
            }
            return;
        }
        if (FindOrIgnore(header.StreamId) is not { } stream)
        {
            return;
        }
        if (increment == 0)
        {
            stream.Reset(Http2ErrorCode.ProtocolError);
        }
        else if (!stream.SendWindow.TryAdd(increment))
        {
            stream.Reset(Http2ErrorCode.FlowControlError);
        }
    }

    /// <summary>The stream a DATA or HEADERS frame is for; null (ignore) for a stream we reset; a connection error otherwise.</summary>
    private Http2Stream? Find(int streamId)
    {
        lock (_streams)
        {
            if (_streams.TryGetValue(streamId, out var stream))
            {
                return stream;
            }
            if (_recentlyReset.Contains(streamId))
            {
                return null;
            }
            if ((streamId & 1) == 0 || streamId >= _nextStreamId)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"A frame on idle stream {streamId}.");
            }
        }
        throw new Http2ConnectionException(Http2ErrorCode.StreamClosed, $"A frame on closed stream {streamId}.");
    }

    /// <summary>The stream a WINDOW_UPDATE or RST_STREAM is for; null for a closed one (allowed, RFC 9113 §5.1); a connection error for an idle one.</summary>
    private Http2Stream? FindOrIgnore(int streamId)
    {
        lock (_streams)
        {
            if (_streams.TryGetValue(streamId, out var stream))
            {
                return stream;
            }
            if ((streamId & 1) == 0 || streamId >= _nextStreamId)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"A frame on idle stream {streamId}.");
            }
            return null;
        }
    }

    private void ResetStream(int streamId, Http2ErrorCode code) => FindOrIgnore(streamId)?.Reset(code);

    /// <summary>Counts SETTINGS and PING frames per second; a flood of them (each forcing an acknowledgement) is a connection error.</summary>
    private void CountControlFrame(string type)
    {
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(_floodWindowStart, now) >= TimeSpan.FromSeconds(1))
        {
            _floodWindowStart = now;
            _floodCount = 0;
        }
        if (++_floodCount > _options.MaxControlFramesPerSecond)
        {
            throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm,
                $"The peer sent more than {_options.MaxControlFramesPerSecond} SETTINGS and PING frames in a second (last: {type}).");
        }
    }

    private static int StripPadding(Http2FrameHeader header, ref ReadOnlySequence<byte> payload)
    {
        if (!header.HasFlag(Http2Flags.Padded))
        {
            return 0;
        }
        if (payload.Length < 1)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"A padded {header.Type} frame without its pad length.");
        }
        int padLength = payload.FirstSpan[0];
        if (padLength >= payload.Length)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"A {header.Type} frame's padding ({padLength}) fills its payload.");
        }
        payload = payload.Slice(1, payload.Length - 1 - padLength);
        return padLength;
    }

    private static uint ReadUInt32(ReadOnlySequence<byte> payload)
    {
        Span<byte> bytes = stackalloc byte[4];
        payload.Slice(0, 4).CopyTo(bytes);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private void OnKeepAliveTick()
    {
        if (Interlocked.Read(ref _outstandingPing) >= 0)
        {
            Log.KeepAliveTimeout(_logger, _name, _options.KeepAliveInterval);
            Close(null, new Http2ConnectionException(Http2ErrorCode.ConnectError,
                $"The peer did not acknowledge a keep-alive PING within {_options.KeepAliveInterval}."));
            return;
        }
        if (_receivedSinceTick)
        {
            _receivedSinceTick = false;
            return;
        }
        var payload = _time.GetTimestamp() & long.MaxValue;
        Interlocked.Exchange(ref _outstandingPing, payload);
        _ = WriteAsync(null, (writer, token) => writer.WritePingAsync(ack: false, (ulong)payload, token));
    }

    /// <summary>Closes once: GOAWAY with <paramref name="goAwayCode"/> if given (bounded in time), then every stream fails with <paramref name="error"/>.</summary>
    private void Close(Http2ErrorCode? goAwayCode, Exception error)
    {
        Http2Stream[] streams;
        lock (_streams)
        {
            if (_closedError is not null)
            {
                return;
            }
            _closedError = error;
            streams = [.. _streams.Values];
            _streams.Clear();
            _active = 0;
        }
        _ = CloseAsync(goAwayCode, error, streams);
    }

    private async Task CloseAsync(Http2ErrorCode? goAwayCode, Exception error, Http2Stream[] streams)
    {
        _keepAlive?.Dispose();
        _ready.TrySetException(error);
        _ = _ready.Task.Exception;
        _sendWindow.Close(error.Message);
        foreach (var stream in streams)
        {
            stream.OnReset(error);
        }
        if (goAwayCode is { } code && _writer is { } writer)
        {
            using var timeout = new CancellationTokenSource(GoAwayWriteTimeout, _time);
            try
            {
                await writer.WriteGoAwayAsync(0, code, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException or ObjectDisposedException)
            {
                // The peer is gone or does not read; it learns of the close from the transport.
            }
        }
        await _closing.CancelAsync().ConfigureAwait(false);
        if (_transport is { } transport)
        {
            // A graceful close (FIN, TLS close_notify): the GOAWAY just written must reach the peer.
            transport.ShutdownWrite();
            await transport.DisposeAsync().ConfigureAwait(false);
        }
        Log.Closed(_logger, _name, error.Message);
        _completion.TrySetResult();
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.Http2ConnectionOpened, LogLevel.Debug, "HTTP/2 client: connection to {Name} opened.")]
        public static partial void Opened(ILogger logger, string name);

        [LoggerMessage(EventIds.Http2ConnectionReady, LogLevel.Debug, "HTTP/2 client: connection to {Name} ready (peer SETTINGS_MAX_CONCURRENT_STREAMS {MaxConcurrentStreams}).")]
        public static partial void Ready(ILogger logger, string name, uint maxConcurrentStreams);

        [LoggerMessage(EventIds.Http2ConnectionClosed, LogLevel.Debug, "HTTP/2 client: connection to {Name} closed: {Reason}")]
        public static partial void Closed(ILogger logger, string name, string reason);

        [LoggerMessage(EventIds.Http2ConnectionError, LogLevel.Warning, "HTTP/2 client: connection to {Name} failed with {Code}: {Reason}")]
        public static partial void ConnectionError(ILogger logger, string name, Http2ErrorCode code, string reason);

        [LoggerMessage(EventIds.Http2GoAwayReceived, LogLevel.Information, "HTTP/2 client: {Name} sent GOAWAY (last stream {LastStreamId}, {Code}) {Debug}")]
        public static partial void GoAwayReceived(ILogger logger, string name, int lastStreamId, Http2ErrorCode code, string debug);

        [LoggerMessage(EventIds.Http2KeepAliveTimeout, LogLevel.Warning, "HTTP/2 client: {Name} did not acknowledge a keep-alive PING within {Interval}; closing the connection.")]
        public static partial void KeepAliveTimeout(ILogger logger, string name, TimeSpan interval);

        [LoggerMessage(EventIds.Http2StreamReset, LogLevel.Debug, "HTTP/2 client: {Name} reset stream {StreamId} ({Code}).")]
        public static partial void StreamReset(ILogger logger, string name, int streamId, Http2ErrorCode code);
    }
}
