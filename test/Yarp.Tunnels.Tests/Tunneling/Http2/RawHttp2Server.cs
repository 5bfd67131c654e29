using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Yarp.Tunnels.Tunneling.Http2;

namespace Yarp.Tunnels.Tests.Tunneling.Http2;

/// <summary>A raw TCP server on 127.0.0.1 that speaks HTTP/2 frame by frame, so a test can send exactly the (malformed) frames it wants.</summary>
internal sealed class RawHttp2Server : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<RawHttp2Connection> _connections = [];

    public RawHttp2Server()
    {
        _listener.Start();
    }

    public string Address => $"tcp://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Accepts the next client connection, reads its preface and SETTINGS, and sends <paramref name="settings"/> (no ACK yet).</summary>
    public async Task<RawHttp2Connection> AcceptAsync(params (Http2SettingId Id, uint Value)[] settings)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var socket = await _listener.AcceptSocketAsync(timeout.Token);
        var connection = new RawHttp2Connection(socket);
        _connections.Add(connection);
        var preface = await connection.ReadExactlyAsync(24);
        Assert.Equal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), preface);
        var clientSettings = await connection.ReadFrameAsync();
        Assert.Equal(Http2FrameType.Settings, clientSettings.Header.Type);
        connection.ClientSettings = clientSettings.Payload;
        var payload = new byte[settings.Length * 6];
        for (var i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(i * 6), (ushort)settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan((i * 6) + 2), settings[i].Value);
        }
        await connection.WriteFrameAsync(Http2FrameType.Settings, 0, 0, payload);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }
}

/// <summary>One accepted connection of a <see cref="RawHttp2Server"/>.</summary>
internal sealed class RawHttp2Connection(Socket socket) : IAsyncDisposable
{
    private readonly NetworkStream _stream = new(socket, ownsSocket: true);
    private readonly HpackDecoder _decoder = new(4096, 1024 * 1024);

    public byte[] ClientSettings { get; set; } = [];

    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        using var timeout = new CancellationTokenSource(RawHttp2Server.Timeout);
        var buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer, timeout.Token);
        return buffer;
    }

    public async Task<(Http2FrameHeader Header, byte[] Payload)> ReadFrameAsync()
    {
        var header = Http2FrameHeader.Read(await ReadExactlyAsync(Http2FrameHeader.Size));
        return (header, header.Length == 0 ? [] : await ReadExactlyAsync(header.Length));
    }

    /// <summary>Reads frames until one of <paramref name="type"/> (answering nothing); the frames skipped are returned too.</summary>
    public async Task<(Http2FrameHeader Header, byte[] Payload)> ReadFrameAsync(Http2FrameType type, Func<Http2FrameHeader, bool>? match = null)
    {
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (frame.Header.Type == type && (match is null || match(frame.Header)))
            {
                return frame;
            }
        }
    }

    /// <summary>The next HEADERS (with its CONTINUATIONs), decoded.</summary>
    public async Task<(int StreamId, List<KeyValuePair<string, string>> Fields, bool EndStream)> ReadHeadersAsync()
    {
        var frame = await ReadFrameAsync(Http2FrameType.Headers);
        var block = new List<byte>(frame.Payload);
        var flags = frame.Header.Flags;
        while ((flags & Http2Flags.EndHeaders) == 0)
        {
            var continuation = await ReadFrameAsync();
            Assert.Equal(Http2FrameType.Continuation, continuation.Header.Type);
            block.AddRange(continuation.Payload);
            flags = continuation.Header.Flags;
        }
        return (frame.Header.StreamId, _decoder.Decode(block.ToArray()), frame.Header.HasFlag(Http2Flags.EndStream));
    }

    /// <summary>Reads until the client's GOAWAY and returns its error code; the client then closes the connection.</summary>
    public async Task<Http2ErrorCode> ReadGoAwayAsync()
    {
        var frame = await ReadFrameAsync(Http2FrameType.GoAway);
        return (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(frame.Payload.AsSpan(4));
    }

    /// <summary>Completes when the client closed the connection (reads until end of stream or reset).</summary>
    public async Task WaitForCloseAsync()
    {
        using var timeout = new CancellationTokenSource(RawHttp2Server.Timeout);
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // Reset: closed too.
        }
    }

    public Task WriteFrameAsync(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload) =>
        WriteRawAsync(Frame(type, flags, streamId, payload));

    public async Task WriteRawAsync(byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(RawHttp2Server.Timeout);
        await _stream.WriteAsync(bytes, timeout.Token);
    }

    /// <summary>Sends response HEADERS <c>:status</c> <paramref name="status"/> (a literal, so no table state is involved).</summary>
    public Task WriteStatusAsync(int streamId, int status, bool endStream = false) =>
        WriteFrameAsync(Http2FrameType.Headers, (byte)(Http2Flags.EndHeaders | (endStream ? Http2Flags.EndStream : 0)), streamId,
            [0x08, 0x03, .. System.Text.Encoding.ASCII.GetBytes(status.ToString(System.Globalization.CultureInfo.InvariantCulture))]);

    public static byte[] Frame(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[Http2FrameHeader.Size + payload.Length];
        new Http2FrameHeader(payload.Length, type, flags, streamId).Write(bytes);
        payload.CopyTo(bytes.AsSpan(Http2FrameHeader.Size));
        return bytes;
    }

    public static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
