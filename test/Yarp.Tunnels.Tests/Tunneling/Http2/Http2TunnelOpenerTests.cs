using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Tunneling;
using Yarp.Tunnels.Tunneling.Http2;

namespace Yarp.Tunnels.Tests.Tunneling.Http2;

/// <summary>The HTTP/2 client and tunnel opener against a raw server sending exactly the frames each test needs, malformed ones included.</summary>
public sealed class Http2TunnelOpenerTests : IAsyncDisposable
{
    private static readonly TunnelHead Connect = new("CONNECT", "host.com:443", null, null, [new("Foo", "bar")]);
    private static readonly TunnelTransportOptions Cleartext = new(false, null, true, TunnelTransportOptions.DefaultMaxTunnelsPerConnection);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly RawHttp2Server _server = new();
    private readonly CancellationTokenSource _timeout = new(RawHttp2Server.Timeout);
    private Http2ConnectionPool? _pool;

    [Fact]
    public async Task OpenAsync_ClassicConnect_SendsMethodAndAuthorityOnlyAndRelaysBothWays()
    {
        var (connection, open) = await OpenAsync();
        var (streamId, fields, endStream) = await connection.ReadHeadersAsync();
        Assert.Equal(1, streamId);
        Assert.False(endStream);
        Assert.Equal([new(":method", "CONNECT"), new(":authority", "host.com:443"), new("foo", "bar")], fields);
        await connection.WriteStatusAsync(1, 200);
        var result = await open;
        Assert.Equal(TunnelFailure.None, result.Failure);
        var stream = result.Stream!;

        await stream.WriteAsync("ping"u8.ToArray(), _timeout.Token);
        var data = await connection.ReadFrameAsync(Http2FrameType.Data);
        Assert.Equal("ping", Encoding.ASCII.GetString(data.Payload));
        stream.ShutdownWrite();
        var end = await connection.ReadFrameAsync(Http2FrameType.Data);
        Assert.True(end.Header.HasFlag(Http2Flags.EndStream));

        await connection.WriteFrameAsync(Http2FrameType.Data, Http2Flags.EndStream, 1, "pong"u8);
        Assert.Equal("pong", await ReadToEndAsync(stream.Input!));
        Assert.Empty(await result.Trailers.WaitAsync(_timeout.Token));
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task OpenAsync_Post_SendsSchemePathAndAuthorityAndAcceptsAny2xx()
    {
        var (connection, open) = await OpenAsync(new TunnelHead("POST", "host.com", "/tunnel", null, []));
        var (_, fields, _) = await connection.ReadHeadersAsync();
        Assert.Equal([new(":method", "POST"), new(":scheme", "http"), new(":path", "/tunnel"), new(":authority", "host.com")], fields);

        await connection.WriteStatusAsync(1, 204);

        var result = await open;
        Assert.Equal(TunnelFailure.None, result.Failure);
        Assert.Equal(204, result.Status);
        await result.Stream!.DisposeAsync();
    }

    [Fact]
    public async Task OpenAsync_UpstreamAnswers403_FailsWithStatusAndResetsTheStream()
    {
        var (connection, open) = await OpenAsync();
        await connection.ReadHeadersAsync();

        await connection.WriteStatusAsync(1, 403);

        var result = await open;
        Assert.Equal(TunnelFailure.Status, result.Failure);
        Assert.Equal(403, result.Status);
        Assert.Null(result.Stream);
        var reset = await connection.ReadFrameAsync(Http2FrameType.RstStream);
        Assert.Equal(1, reset.Header.StreamId);
        Assert.Equal(Http2ErrorCode.Cancel, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(reset.Payload));
    }

    [Fact]
    public async Task OpenAsync_PeerResetsBeforeResponse_FailsWithReset()
    {
        var (connection, open) = await OpenAsync();
        await connection.ReadHeadersAsync();

        await connection.WriteFrameAsync(Http2FrameType.RstStream, 0, 1, RawHttp2Connection.UInt32((uint)Http2ErrorCode.Cancel));

        var result = await open;
        Assert.Equal(TunnelFailure.Reset, result.Failure);
        Assert.Contains("Cancel", result.Reason);
    }

    [Fact]
    public async Task OpenAsync_PeerRefusesStream_OpensItAgain()
    {
        var (connection, open) = await OpenAsync();
        await connection.ReadHeadersAsync();

        await connection.WriteFrameAsync(Http2FrameType.RstStream, 0, 1, RawHttp2Connection.UInt32((uint)Http2ErrorCode.RefusedStream));

        var (retryId, fields, _) = await connection.ReadHeadersAsync();
        Assert.Equal(3, retryId);
        Assert.Contains(new KeyValuePair<string, string>(":authority", "host.com:443"), fields);
        await connection.WriteStatusAsync(3, 200);
        var result = await open;
        Assert.Equal(TunnelFailure.None, result.Failure);
        await result.Stream!.DisposeAsync();
    }

    [Fact]
    public async Task OpenAsync_UpstreamUnreachable_FailsWithConnect()
    {
        // A port that was just free: nothing listens there.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await Opener().OpenAsync(Request($"tcp://127.0.0.1:{port}"), Connect, Cleartext, _timeout.Token);

        Assert.Equal(TunnelFailure.Connect, result.Failure);
    }

    [Fact]
    public async Task Read_OversizedFrame_GoAwayFrameSizeErrorAndOpeningFails()
    {
        var (connection, open) = await OpenAsync();
        await connection.ReadHeadersAsync();

        // A frame header announcing 16,385 octets (one more than SETTINGS_MAX_FRAME_SIZE): refused before its payload is read.
        await connection.WriteRawAsync(RawHttp2Connection.Frame(Http2FrameType.Data, 0, 1, new byte[16_385]));

        Assert.Equal(Http2ErrorCode.FrameSizeError, await connection.ReadGoAwayAsync());
        var result = await open;
        Assert.Equal(TunnelFailure.Protocol, result.Failure);
        await connection.WaitForCloseAsync();
    }

    [Fact]
    public async Task Read_BadHpackIndex_GoAwayCompressionErrorAndOpeningFails()
    {
        var (connection, open) = await OpenAsync();
        await connection.ReadHeadersAsync();

        // Indexed field 70: beyond the static table and the (empty) dynamic table.
        await connection.WriteFrameAsync(Http2FrameType.Headers, Http2Flags.EndHeaders, 1, [0xC6]);

        Assert.Equal(Http2ErrorCode.CompressionError, await connection.ReadGoAwayAsync());
        var result = await open;
        Assert.Equal(TunnelFailure.Protocol, result.Failure);
        Assert.Contains("beyond the dynamic table", result.Reason);
        await connection.WaitForCloseAsync();
    }

    [Fact]
    public async Task Read_ConnectionWindowOverflow_GoAwayFlowControlErrorAndEstablishedTunnelFails()
    {
        var (connection, stream) = await EstablishAsync();

        await connection.WriteFrameAsync(Http2FrameType.WindowUpdate, 0, 0, RawHttp2Connection.UInt32(int.MaxValue));

        Assert.Equal(Http2ErrorCode.FlowControlError, await connection.ReadGoAwayAsync());
        await Assert.ThrowsAsync<ConnectionResetException>(async () => await ReadToEndAsync(stream.Input!));
        await Assert.ThrowsAsync<ConnectionResetException>(async () => await stream.WriteAsync(new byte[1], _timeout.Token));
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task Read_DataOnClosedStream_GoAwayStreamClosedAndOtherTunnelFails()
    {
        var (connection, first) = await EstablishAsync();
        var secondOpen = Opener().OpenAsync(Request(_server.Address), Connect, Cleartext, _timeout.Token).AsTask();
        var (secondId, _, _) = await connection.ReadHeadersAsync();
        await connection.WriteStatusAsync(secondId, 200);
        var second = (await secondOpen).Stream!;

        // Stream 1 ends both ways: closed.
        await connection.WriteFrameAsync(Http2FrameType.Data, Http2Flags.EndStream, 1, "bye"u8);
        Assert.Equal("bye", await ReadToEndAsync(first.Input!));
        first.ShutdownWrite();
        await connection.ReadFrameAsync(Http2FrameType.Data, h => h.StreamId == 1 && h.HasFlag(Http2Flags.EndStream));

        await connection.WriteFrameAsync(Http2FrameType.Data, 0, 1, "late"u8);

        Assert.Equal(Http2ErrorCode.StreamClosed, await connection.ReadGoAwayAsync());
        await Assert.ThrowsAsync<ConnectionResetException>(async () => await ReadToEndAsync(second.Input!));
        await first.DisposeAsync();
        await second.DisposeAsync();
    }

    [Fact]
    public async Task Read_DataBeyondStreamWindow_GoAwayFlowControlErrorWithoutBufferingMore()
    {
        var (connection, stream) = await EstablishAsync();
        var window = BinaryPrimitives.ReadUInt32BigEndian(Setting(connection.ClientSettings, Http2SettingId.InitialWindowSize));
        Assert.Equal((uint)Options.StreamReceiveWindow, window);

        // Nobody reads the stream, so no credit comes back: one octet beyond the window is a violation.
        var chunk = new byte[16_384];
        for (var sent = 0; sent < window; sent += chunk.Length)
        {
            await connection.WriteFrameAsync(Http2FrameType.Data, 0, 1, chunk.AsSpan(0, (int)Math.Min(chunk.Length, window - sent)));
        }
        await connection.WriteFrameAsync(Http2FrameType.Data, 0, 1, [1]);

        Assert.Equal(Http2ErrorCode.FlowControlError, await connection.ReadGoAwayAsync());
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task Read_SettingsFlood_GoAwayEnhanceYourCalmAfterBoundedAcks()
    {
        var (connection, stream) = await EstablishAsync();
        var flood = new List<byte>();
        for (var i = 0; i < 1000; i++)
        {
            flood.AddRange(RawHttp2Connection.Frame(Http2FrameType.Settings, 0, 0, []));
        }

        await connection.WriteRawAsync([.. flood]);

        var acks = 0;
        while (true)
        {
            var frame = await connection.ReadFrameAsync();
            if (frame.Header.Type == Http2FrameType.GoAway)
            {
                Assert.Equal(Http2ErrorCode.EnhanceYourCalm, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(frame.Payload.AsSpan(4)));
                break;
            }
            acks += frame.Header.Type == Http2FrameType.Settings && frame.Header.HasFlag(Http2Flags.Ack) ? 1 : 0;
        }
        // The handshake's SETTINGS plus at most the per-second allowance were acknowledged.
        Assert.InRange(acks, 1, Options.MaxControlFramesPerSecond + 1);
        await Assert.ThrowsAsync<ConnectionResetException>(async () => await ReadToEndAsync(stream.Input!));
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task Ping_FromPeer_AnsweredWithTheSamePayload()
    {
        var (connection, stream) = await EstablishAsync();

        await connection.WriteFrameAsync(Http2FrameType.Ping, 0, 0, "12345678"u8);

        var ack = await connection.ReadFrameAsync(Http2FrameType.Ping);
        Assert.True(ack.Header.HasFlag(Http2Flags.Ack));
        Assert.Equal("12345678", Encoding.ASCII.GetString(ack.Payload));
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task KeepAlive_PingNotAcknowledged_ClosesTheConnectionAndFailsItsTunnels()
    {
        var time = new FakeTimeProvider();
        _pool = new Http2ConnectionPool(Connectors(), Options with { KeepAliveInterval = KeepAlive }, NullLogger.Instance, time);
        var (connection, stream) = await EstablishAsync();

        // The client pings an idle connection; this server never answers, so the next interval closes the connection.
        var ping = await IdlePingAsync(connection, time);
        Assert.False(ping.Header.HasFlag(Http2Flags.Ack));
        time.Advance(KeepAlive);

        await connection.WaitForCloseAsync();
        await Assert.ThrowsAsync<ConnectionResetException>(async () => await ReadToEndAsync(stream.Input!));
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task KeepAlive_PingAcknowledged_KeepsTheConnection()
    {
        var time = new FakeTimeProvider();
        _pool = new Http2ConnectionPool(Connectors(), Options with { KeepAliveInterval = KeepAlive }, NullLogger.Instance, time);
        var (connection, stream) = await EstablishAsync();

        for (var i = 0; i < 3; i++)
        {
            var ping = await IdlePingAsync(connection, time);
            await connection.WriteFrameAsync(Http2FrameType.Ping, Http2Flags.Ack, 0, ping.Payload);

            // The client answers frames in order, so once our own PING is acknowledged it has read the ACK before it.
            await connection.WriteFrameAsync(Http2FrameType.Ping, 0, 0, "barrier!"u8);
            await connection.ReadFrameAsync(Http2FrameType.Ping, header => header.HasFlag(Http2Flags.Ack));
        }

        // Still usable after three keep-alive rounds.
        await connection.WriteFrameAsync(Http2FrameType.Data, 0, 1, "alive"u8);
        var read = await stream.Input!.ReadAsync(_timeout.Token);
        Assert.Equal("alive", Encoding.ASCII.GetString(read.Buffer.ToArray()));
        stream.Input.AdvanceTo(read.Buffer.End);
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task GoAway_StreamsUpToLastIdContinue_LaterOnesReopenOnANewConnection()
    {
        var (connection, first) = await EstablishAsync();
        var secondOpen = Opener().OpenAsync(Request(_server.Address), Connect, Cleartext, _timeout.Token).AsTask();
        var (secondId, _, _) = await connection.ReadHeadersAsync();
        Assert.Equal(3, secondId);

        var goAway = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(goAway, 1);
        await connection.WriteFrameAsync(Http2FrameType.GoAway, 0, 0, goAway);

        // Stream 3 was refused unprocessed: it is opened again, on a new connection.
        var next = await _server.AcceptAsync();
        var (retryId, _, _) = await next.ReadHeadersAsync();
        Assert.Equal(1, retryId);
        await next.WriteStatusAsync(1, 200);
        var second = await secondOpen;
        Assert.Equal(TunnelFailure.None, second.Failure);

        // Stream 1 keeps flowing on the draining connection.
        await connection.WriteFrameAsync(Http2FrameType.Data, Http2Flags.EndStream, 1, "still here"u8);
        Assert.Equal("still here", await ReadToEndAsync(first.Input!));

        // A new tunnel uses the new connection, not the draining one.
        var thirdOpen = Opener().OpenAsync(Request(_server.Address), Connect, Cleartext, _timeout.Token).AsTask();
        var (thirdId, _, _) = await next.ReadHeadersAsync();
        Assert.Equal(3, thirdId);
        await next.WriteStatusAsync(3, 200);
        var third = await thirdOpen;
        Assert.Equal(TunnelFailure.None, third.Failure);
        await first.DisposeAsync();
        await second.Stream!.DisposeAsync();
        await third.Stream!.DisposeAsync();
    }

    [Fact]
    public async Task OpenAsync_PeerMaxConcurrentStreamsOne_SecondTunnelOpensSecondConnection()
    {
        var firstOpen = Opener().OpenAsync(Request(_server.Address), Connect, Cleartext, _timeout.Token).AsTask();
        var connection = await _server.AcceptAsync((Http2SettingId.MaxConcurrentStreams, 1));
        await connection.ReadHeadersAsync();
        await connection.WriteStatusAsync(1, 200);
        var first = (await firstOpen).Stream!;

        var secondOpen = Opener().OpenAsync(Request(_server.Address), Connect, Cleartext, _timeout.Token).AsTask();
        var other = await _server.AcceptAsync((Http2SettingId.MaxConcurrentStreams, 1));
        var (id, _, _) = await other.ReadHeadersAsync();
        await other.WriteStatusAsync(id, 200);

        var second = await secondOpen;
        Assert.Equal(TunnelFailure.None, second.Failure);
        Assert.Equal(2, _pool!.ConnectionCount);
        await first.DisposeAsync();
        await second.Stream!.DisposeAsync();
    }

    [Fact]
    public async Task Read_Trailers_EndTheStreamAndAreExposed()
    {
        var (connection, open) = await OpenAsync();
        await connection.ReadHeadersAsync();
        await connection.WriteStatusAsync(1, 200);
        var result = await open;

        await connection.WriteFrameAsync(Http2FrameType.Data, 0, 1, "body"u8);
        // Trailers "x-result: done" as a literal without indexing, new name.
        await connection.WriteFrameAsync(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1,
            [0x00, 0x08, .. "x-result"u8, 0x04, .. "done"u8]);

        Assert.Equal("body", await ReadToEndAsync(result.Stream!.Input!));
        Assert.Equal([new KeyValuePair<string, string>("x-result", "done")], await result.Trailers.WaitAsync(_timeout.Token));
        await result.Stream.DisposeAsync();
    }

    [Fact]
    public async Task Abort_EstablishedTunnel_SendsRstStreamCancel()
    {
        var (connection, stream) = await EstablishAsync();

        stream.Abort();

        var reset = await connection.ReadFrameAsync(Http2FrameType.RstStream);
        Assert.Equal(1, reset.Header.StreamId);
        Assert.Equal(Http2ErrorCode.Cancel, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(reset.Payload));
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task Write_StreamResetWhileWaitingForConnectionWindow_GivesTheConnectionCreditBack()
    {
        var (connection, first) = await EstablishAsync();
        var secondOpen = Opener().OpenAsync(Request(_server.Address), Connect, Cleartext, _timeout.Token).AsTask();
        var (secondId, _, _) = await connection.ReadHeadersAsync();
        await connection.WriteStatusAsync(secondId, 200);
        var second = (await secondOpen).Stream!;
        // The second stream uses up the connection's initial window (65,535 octets, as large as its own).
        await second.WriteAsync(new byte[65_535], _timeout.Token);
        for (var received = 0; received < 65_535;)
        {
            received += (await connection.ReadFrameAsync(Http2FrameType.Data, h => h.StreamId == secondId)).Header.Length;
        }

        // The first stream waits for connection credit; the peer resets it, then grants 100 octets on the connection.
        var blocked = first.WriteAsync(new byte[100], _timeout.Token).AsTask();
        await connection.WriteFrameAsync(Http2FrameType.RstStream, 0, 1, RawHttp2Connection.UInt32((uint)Http2ErrorCode.Cancel));
        await connection.WriteFrameAsync(Http2FrameType.WindowUpdate, 0, 0, RawHttp2Connection.UInt32(100));
        await Assert.ThrowsAsync<ConnectionResetException>(() => blocked);

        // The reset stream never sent them: the 100 octets are still the connection's, for the second stream.
        await connection.WriteFrameAsync(Http2FrameType.WindowUpdate, 0, secondId, RawHttp2Connection.UInt32(100));
        var write = second.WriteAsync(new byte[100], _timeout.Token).AsTask();
        var data = await connection.ReadFrameAsync(Http2FrameType.Data, h => h.StreamId == secondId);
        Assert.Equal(100, data.Header.Length);
        await write;
        await first.DisposeAsync();
        await second.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_pool is not null)
        {
            await _pool.DisposeAsync();
        }
        await _server.DisposeAsync();
        await _services.DisposeAsync();
        _timeout.Dispose();
    }

    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(30);

    private static Http2ClientOptions Options { get; } = new() { StreamReceiveWindow = 65_535, KeepAliveInterval = TimeSpan.Zero };

    private static UpstreamRequest Request(string address) =>
        new("c", new ClusterState("c"), new DestinationState("d"), address, TimeSpan.FromSeconds(5));

    private static byte[] Setting(byte[] settings, Http2SettingId id)
    {
        for (var i = 0; i + 6 <= settings.Length; i += 6)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(settings.AsSpan(i)) == (ushort)id)
            {
                return settings[(i + 2)..(i + 6)];
            }
        }
        throw new InvalidOperationException($"The client sent no {id}.");
    }

    private UpstreamConnectors Connectors() =>
        new(new InternalListenerRegistry(), new TunnelMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), TimeProvider.System);

    private Http2TunnelOpener Opener()
    {
        _pool ??= new Http2ConnectionPool(Connectors(), Options, NullLogger.Instance, TimeProvider.System);
        return new Http2TunnelOpener(_pool);
    }

    private async Task<(RawHttp2Connection Connection, Task<TunnelOpenResult> Open)> OpenAsync(TunnelHead? head = null)
    {
        var open = Opener().OpenAsync(Request(_server.Address), head ?? Connect, Cleartext, _timeout.Token).AsTask();
        var connection = await _server.AcceptAsync();
        return (connection, open);
    }

    /// <summary>Two keep-alive intervals: the first clears "frames arrived since the last tick", the second finds the connection idle and pings.</summary>
    private static async Task<(Http2FrameHeader Header, byte[] Payload)> IdlePingAsync(RawHttp2Connection connection, FakeTimeProvider time)
    {
        time.Advance(KeepAlive);
        time.Advance(KeepAlive);
        return await connection.ReadFrameAsync(Http2FrameType.Ping);
    }

    private async Task<(RawHttp2Connection Connection, RelayEnd Stream)> EstablishAsync()
    {
        var (connection, open) = await OpenAsync();
        var (streamId, _, _) = await connection.ReadHeadersAsync();
        await connection.WriteStatusAsync(streamId, 200);
        var result = await open;
        Assert.Equal(TunnelFailure.None, result.Failure);
        return (connection, result.Stream!);
    }

    private async Task<string> ReadToEndAsync(PipeReader input)
    {
        var text = new StringBuilder();
        while (true)
        {
            var result = await input.ReadAsync(_timeout.Token);
            if (result.IsCanceled)
            {
                throw new ConnectionResetException("canceled");
            }
            text.Append(Encoding.ASCII.GetString(result.Buffer.ToArray()));
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return text.ToString();
            }
        }
    }
}
