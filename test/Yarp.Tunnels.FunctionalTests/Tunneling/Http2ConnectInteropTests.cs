using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Tunneling;
using Yarp.Tunnels.Tunneling.Http2;

namespace Yarp.Tunnels.FunctionalTests.Tunneling;

/// <summary>
/// Our HTTP/2 client's classic CONNECT tunnels against independent servers: node's <c>http2</c> module and python3-h2
/// (each relaying to a TCP echo server), and Kestrel, which accepts a classic CONNECT.
/// </summary>
public sealed class Http2ConnectInteropTests : IAsyncDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    private readonly List<Http2ConnectionPool> _pools = [];
    private readonly TcpEchoServer _echo = TcpEchoServer.Start();

    private const string Node = "node";

    public static TheoryData<string> Peers => new() { Node, "python" };

    /// <summary>
    /// An independent HTTP/2 CONNECT proxy: node's <c>http2</c> module (<c>Interop/node/h2-connect-server.js</c>) or
    /// python3-h2 (<c>Interop/python/h2_connect_server.py</c>), both relaying to the <c>:authority</c> and answering the
    /// same control targets (sessions, goaway, reset, trailers, ping, status).
    /// </summary>
    private static Task<JsonLinePeer> StartPeerAsync(string kind, int? maxStreams = null)
    {
        string[] limit = maxStreams is { } max ? ["--max-streams", max.ToString(CultureInfo.InvariantCulture)] : [];
        return kind == Node
            ? JsonLinePeer.StartAsync(ToolProcess.Require("node"), [Path.Combine(RepoPaths.Interop, "node", "h2-connect-server.js"), .. limit])
            : JsonLinePeer.StartAsync(InteropPeers.Python, [Path.Combine(RepoPaths.Interop, "python", "h2_connect_server.py"), .. limit]);
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task OpenAsync_HundredConcurrentTunnels_ShareOneConnectionAndEchoWithHalfClose(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        var (pool, opener) = Create();

        var echoed = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            var stream = await OpenAsync(opener, peer, $"127.0.0.1:{_echo.Port}");
            return await EchoAsync(stream, $"tunnel {i} " + new string('x', i * 100));
        }));

        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"tunnel {i} " + new string('x', i * 100)), echoed);
        Assert.Equal(1, (await SessionsAsync(opener, peer)).Sessions);
        Assert.Equal(1, pool.ConnectionCount);
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task GoAway_MidRun_RunningTunnelsFinishAndNewOnesOpenANewConnection(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        var (_, opener) = Create();
        var running = new List<RelayEnd>();
        for (var i = 0; i < 5; i++)
        {
            var stream = await OpenAsync(opener, peer, $"127.0.0.1:{_echo.Port}");
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"before {i};"), _timeout.Token);
            running.Add(stream);
        }

        // The peer answers, then sends GOAWAY with this stream as the last one: the five before it keep running.
        var control = await OpenAsync(opener, peer, "goaway.control:1");
        Assert.Equal("", await ReadToEndAsync(control.Input!));
        await control.DisposeAsync();

        var finished = await Task.WhenAll(running.Select((s, i) => EchoAsync(s, $"after {i}")));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"before {i};after {i}"), finished);
        var sessions = await SessionsAsync(opener, peer);
        Assert.Equal(2, sessions.Sessions);
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task Reset_OneStream_OthersStayIntact(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        var (pool, opener) = Create();
        var others = new List<RelayEnd>();
        for (var i = 0; i < 3; i++)
        {
            others.Add(await OpenAsync(opener, peer, $"127.0.0.1:{_echo.Port}"));
        }
        var doomed = await OpenAsync(opener, peer, "reset.control:1");

        await doomed.WriteAsync("x"u8.ToArray(), _timeout.Token);

        // node ends the stream (END_STREAM) before its RST_STREAM, python3-h2 only resets: either way the input ends, and
        // once the reset arrived writes fail.
        try
        {
            await ReadToEndAsync(doomed.Input!);
        }
        catch (ConnectionResetException)
        {
        }
        await Assert.ThrowsAsync<ConnectionResetException>(async () =>
        {
            while (true)
            {
                await doomed.WriteAsync("y"u8.ToArray(), _timeout.Token);
                await Task.Delay(10, _timeout.Token);
            }
        });
        await doomed.DisposeAsync();
        Assert.Equal(["a0", "a1", "a2"], await Task.WhenAll(others.Select((s, i) => EchoAsync(s, $"a{i}"))));
        Assert.Equal(1, pool.ConnectionCount);
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task Trailers_FromUpstream_EndTheStreamAndAreExposed(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        var (_, opener) = Create();
        var result = await opener.OpenAsync(Request(peer), Head("trailers.control:1"), Transport(), _timeout.Token);
        Assert.Equal(TunnelFailure.None, result.Failure);

        Assert.Equal("payload", await EchoAsync(result.Stream!, "payload"));

        var trailers = await result.Trailers.WaitAsync(_timeout.Token);
        Assert.Contains(new KeyValuePair<string, string>("x-result", "ok"), trailers);
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task Ping_FromPeer_IsAnswered(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        var (_, opener) = Create();
        var stream = await OpenAsync(opener, peer, "ping.control:1");

        var answer = await ReadToEndAsync(stream.Input!);

        Assert.Equal("ok", JsonDocument.Parse(answer).RootElement.GetProperty("ping").GetString());
        await stream.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task OpenAsync_TunnelsPerConnectionLimit_OpensASecondConnection(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        var (pool, opener) = Create();
        var held = new List<RelayEnd>();
        for (var i = 0; i < 4; i++)
        {
            held.Add(await OpenAsync(opener, peer, $"127.0.0.1:{_echo.Port}", maxTunnelsPerConnection: 3));
        }

        Assert.Equal(2, pool.ConnectionCount);
        Assert.Equal(2, (await SessionsAsync(opener, peer, maxTunnelsPerConnection: 3)).Sessions);
        foreach (var stream in held)
        {
            await stream.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task OpenAsync_PeerMaxConcurrentStreams_NeverExceededAndMoreConnectionsOpen(string kind)
    {
        using var peer = await StartPeerAsync(kind, maxStreams: 2);
        var (pool, opener) = Create();

        var echoed = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            var stream = await OpenAsync(opener, peer, $"127.0.0.1:{_echo.Port}");
            return await EchoAsync(stream, $"t{i}");
        }));

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"t{i}"), echoed);
        Assert.InRange((await SessionsAsync(opener, peer)).Sessions, 3, 6);
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task OpenAsync_PeerAnswers503_FailsWithStatus(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        var (_, opener) = Create();

        var result = await opener.OpenAsync(Request(peer), Head("status.control:503"), Transport(), _timeout.Token);

        Assert.Equal(TunnelFailure.Status, result.Failure);
        Assert.Equal(503, result.Status);
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task OpenAsync_PostTunnel_RelaysBodies(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        var (_, opener) = Create();

        var result = await opener.OpenAsync(Request(peer), new TunnelHead("POST", $"127.0.0.1:{_echo.Port}", "/", null, []), Transport(), _timeout.Token);

        Assert.Equal(TunnelFailure.None, result.Failure);
        Assert.Equal("posted", await EchoAsync(result.Stream!, "posted"));
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task Listener_FiftyClientsThroughL1_ShareOneUpstreamConnectionByteExactWithHalfClose(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        var config = L1(peer, $"127.0.0.1:{_echo.Port}");
        // A second listener on the same cluster reports the peer's sessions through the same pooled connection.
        config["Listeners:sessions:Address"] = "tcp://127.0.0.1:0";
        config["Listeners:sessions:TcpProxy:ClusterId"] = "proxy";
        config["Listeners:sessions:TcpProxy:Tunneling:Hostname"] = "sessions.control:1";
        config["Listeners:sessions:TcpProxy:Tunneling:Protocol"] = "Http2";
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(config), new InternalListenerRegistry());
        var token = _timeout.Token;

        var echoed = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            var payload = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64 * 1024 + i);
            using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("l1"), token);
            var reading = SocketIo.ReadToEndAsync(client, token);
            await SocketIo.SendAllAsync(client, payload, token);
            // The echo server half-closes only after it read end of stream: the read ends only if FIN became END_STREAM and back.
            client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            return (payload, await reading);
        }));

        foreach (var (payload, back) in echoed)
        {
            Bytes.AssertEqual(payload, back);
        }
        using var sessions = await SocketIo.ConnectAsync(host.TcpProxyPort("sessions"), token);
        var report = JsonDocument.Parse(await SocketIo.ReadToEndAsync(sessions, token)).RootElement;
        Assert.Equal(1, report.GetProperty("sessions").GetInt32());
        Assert.Equal(50, host.Stats()["tcp.l1.downstream_cx_total"]);
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task Listener_PeerAnswers503_DownstreamClosedNothingForwardedAndStatusCounted(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(L1(peer, "status.control:503")), new InternalListenerRegistry());
        var token = _timeout.Token;

        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("l1"), token);
        await SocketIo.SendAllAsync(client, "hello"u8.ToArray(), token);
        byte[] received;
        try
        {
            received = await SocketIo.ReadToEndAsync(client, token);
        }
        catch (System.Net.Sockets.SocketException)
        {
            received = [];
        }

        Assert.Empty(received);
        await host.WaitForStatAsync("tcp.l1.tunnel_fail_status_503", 1);
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task Listener_UpstreamTrailers_FinDownstreamAfterTheEcho(string kind)
    {
        using var peer = await StartPeerAsync(kind);
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(L1(peer, "trailers.control:1")), new InternalListenerRegistry());
        var token = _timeout.Token;

        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("l1"), token);
        var reading = SocketIo.ReadToEndAsync(client, token);
        await SocketIo.SendAllAsync(client, "before the trailers"u8.ToArray(), token);
        client.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        // The peer ends its side with trailers only (no END_STREAM DATA): the client reads end of stream after the echo.
        Assert.Equal("before the trailers", Encoding.ASCII.GetString(await reading));
    }

    [Fact]
    public async Task OpenAsync_Kestrel_AcceptsClassicConnectAndEchoes()
    {
        await using var kestrel = await StartKestrelEchoAsync(b => b.WebHost.ConfigureKestrel(k =>
            k.Listen(System.Net.IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2)));
        var (_, opener) = Create();
        var address = $"tcp://127.0.0.1:{TestHost.Address(kestrel).Port}";

        var result = await opener.OpenAsync(Request(address), new TunnelHead("CONNECT", "host.com:443", null, null, [new("foo", "bar")]), Transport(), _timeout.Token);

        Assert.True(result.Failure == TunnelFailure.None, $"{result.Failure}: {result.Reason}");
        Assert.Equal("through kestrel", await EchoAsync(result.Stream!, "through kestrel"));
    }

    [Fact]
    public async Task OpenAsync_HttpsDestination_TlsWithAlpnH2ToKestrel()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var kestrel = await StartKestrelEchoAsync(b => b.WebHost.ConfigureKestrel(k =>
            k.Listen(System.Net.IPAddress.Loopback, 0, l =>
            {
                // Both offered: the connection is HTTP/2 only because the client asks ALPN for h2.
                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps(certificate);
            })));
        var (_, opener) = Create();
        var address = $"https://127.0.0.1:{TestHost.Address(kestrel).Port}";

        var result = await opener.OpenAsync(Request(address), new TunnelHead("CONNECT", "host.com:443", null, null, [new("foo", "bar")]),
            new TunnelTransportOptions(UseTls: true, "localhost", ValidateCertificate: false, TunnelTransportOptions.DefaultMaxTunnelsPerConnection), _timeout.Token);

        Assert.True(result.Failure == TunnelFailure.None, $"{result.Failure}: {result.Reason}");
        Assert.Equal("over tls", await EchoAsync(result.Stream!, "over tls"));
    }

    [Fact]
    public async Task Listener_InternalListenerDestination_TunnelsToKestrelOverAnInternalConnection()
    {
        var registry = new InternalListenerRegistry();
        await using var kestrel = await StartKestrelEchoAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal("h2", o => o.Protocols = HttpProtocols.Http2));
        });
        var config = new Dictionary<string, string?>
        {
            ["Listeners:l1:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:l1:TcpProxy:ClusterId"] = "proxy",
            ["Listeners:l1:TcpProxy:Tunneling:Hostname"] = "host.com:443",
            ["Listeners:l1:TcpProxy:Tunneling:Protocol"] = "Http2",
            ["Listeners:l1:TcpProxy:Tunneling:HeadersToAdd:foo"] = "bar",
            ["Clusters:proxy:Destinations:d1:Address"] = "envoy-internal://h2",
        };
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(config), registry);
        var token = _timeout.Token;

        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("l1"), token);
        var reading = SocketIo.ReadToEndAsync(client, token);
        await SocketIo.SendAllAsync(client, "through envoy-internal"u8.ToArray(), token);
        client.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        Assert.Equal("through envoy-internal", Encoding.ASCII.GetString(await reading));
    }

    [Fact]
    public async Task OpenAsync_ExtendedConnectToKestrel_SendsProtocolSchemeAndPathAndEchoes()
    {
        await using var kestrel = await TestHost.StartAsync(
            builder => builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2)),
            app => app.Run(async context =>
            {
                // Kestrel announces SETTINGS_ENABLE_CONNECT_PROTOCOL and hands an RFC 8441 CONNECT to IHttpExtendedConnectFeature.
                var connect = context.Features.Get<IHttpExtendedConnectFeature>();
                if (connect is not { IsExtendedConnect: true, Protocol: "connect-tcp" } || context.Request.Path != "/tunnel")
                {
                    context.Response.StatusCode = 400;
                    return;
                }
                var stream = await connect.AcceptAsync();
                await stream.CopyToAsync(stream);
            }));
        var (_, opener) = Create();
        var address = $"tcp://127.0.0.1:{TestHost.Address(kestrel).Port}";

        var result = await opener.OpenAsync(Request(address), new TunnelHead("CONNECT", "host.com:443", "/tunnel", "connect-tcp", []), Transport(), _timeout.Token);

        Assert.True(result.Failure == TunnelFailure.None, $"{result.Failure}: {result.Reason}");
        Assert.Equal("extended", await EchoAsync(result.Stream!, "extended"));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pool in _pools)
        {
            await pool.DisposeAsync();
        }
        await _echo.DisposeAsync();
        await _services.DisposeAsync();
        _timeout.Dispose();
    }

    /// <summary>A socket TCP proxy listener <c>l1</c> tunnelling over HTTP/2 to <paramref name="peer"/> with <paramref name="hostname"/>.</summary>
    private static Dictionary<string, string?> L1(JsonLinePeer peer, string hostname) => new()
    {
        ["Listeners:l1:Address"] = "tcp://127.0.0.1:0",
        ["Listeners:l1:TcpProxy:ClusterId"] = "proxy",
        ["Listeners:l1:TcpProxy:Tunneling:Hostname"] = hostname,
        ["Listeners:l1:TcpProxy:Tunneling:Protocol"] = "Http2",
        ["Clusters:proxy:Destinations:d1:Address"] = $"tcp://127.0.0.1:{peer.Port}",
    };

    /// <summary>A Kestrel app that answers a classic CONNECT to host.com:443 carrying <c>foo: bar</c> with 200 and echoes the tunnel.</summary>
    private static Task<Microsoft.AspNetCore.Builder.WebApplication> StartKestrelEchoAsync(Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder> configure) =>
        TestHost.StartAsync(configure, app => app.Run(async context =>
        {
            if (!HttpMethods.IsConnect(context.Request.Method) || context.Request.Host.Value != "host.com:443" || context.Request.Headers["foo"] != "bar")
            {
                context.Response.StatusCode = 400;
                return;
            }
            // A long-lived tunnel: no body size limit nor minimum rate; headers flushed at once (notes §3.2).
            context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
            context.Features.Get<IHttpMinRequestBodyDataRateFeature>()!.MinDataRate = null;
            await context.Response.StartAsync();
            await context.Response.Body.FlushAsync();
            await context.Request.Body.CopyToAsync(context.Response.Body);
        }));

    private static TunnelHead Head(string authority) => new("CONNECT", authority, null, null, []);

    private static TunnelTransportOptions Transport(int maxTunnelsPerConnection = TunnelTransportOptions.DefaultMaxTunnelsPerConnection) =>
        new(false, null, true, maxTunnelsPerConnection);

    private static UpstreamRequest Request(JsonLinePeer peer) => Request($"tcp://127.0.0.1:{peer.Port}");

    private static UpstreamRequest Request(string address) => new("c", new ClusterState("c"), new DestinationState("d"), address, TimeSpan.FromSeconds(5));

    private (Http2ConnectionPool Pool, Http2TunnelOpener Opener) Create()
    {
        var connectors = new UpstreamConnectors(new InternalListenerRegistry(),
            new TunnelMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), TimeProvider.System);
        var pool = new Http2ConnectionPool(connectors, new Http2ClientOptions(), NullLogger.Instance, TimeProvider.System);
        _pools.Add(pool);
        return (pool, new Http2TunnelOpener(pool));
    }

    private async Task<RelayEnd> OpenAsync(Http2TunnelOpener opener, JsonLinePeer peer, string authority, int maxTunnelsPerConnection = TunnelTransportOptions.DefaultMaxTunnelsPerConnection)
    {
        var result = await opener.OpenAsync(Request(peer), Head(authority), Transport(maxTunnelsPerConnection), _timeout.Token);
        Assert.True(result.Failure == TunnelFailure.None, $"{authority}: {result.Failure} {result.Reason}{Environment.NewLine}{peer.Output}");
        return result.Stream!;
    }

    private async Task<(int Sessions, int Open)> SessionsAsync(Http2TunnelOpener opener, JsonLinePeer peer, int maxTunnelsPerConnection = TunnelTransportOptions.DefaultMaxTunnelsPerConnection)
    {
        var stream = await OpenAsync(opener, peer, "sessions.control:1", maxTunnelsPerConnection);
        var json = JsonDocument.Parse(await ReadToEndAsync(stream.Input!)).RootElement;
        await stream.DisposeAsync();
        return (json.GetProperty("sessions").GetInt32(), json.GetProperty("open").GetInt32());
    }

    /// <summary>Sends <paramref name="text"/>, half-closes, and returns everything read until the peer's end of stream; disposes the stream.</summary>
    private async Task<string> EchoAsync(RelayEnd stream, string text)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text), _timeout.Token);
        stream.ShutdownWrite();
        try
        {
            return await ReadToEndAsync(stream.Input!);
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    private async Task<string> ReadToEndAsync(PipeReader input)
    {
        var text = new StringBuilder();
        while (true)
        {
            var result = await input.ReadAsync(_timeout.Token);
            if (result.IsCanceled)
            {
                throw new ConnectionResetException("The read was canceled.");
            }
            foreach (var segment in result.Buffer)
            {
                text.Append(Encoding.ASCII.GetString(segment.Span));
            }
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return text.ToString();
            }
        }
    }
}
