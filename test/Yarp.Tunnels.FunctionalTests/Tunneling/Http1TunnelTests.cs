using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Tunneling;

/// <summary>TCP tunnelling over HTTP/1.1 (CONNECT and POST) against proxies no one here wrote: squid, nginx, node, a python CONNECT proxy.</summary>
public class Http1TunnelTests
{
    private const string Python = "/usr/bin/python3";

    /// <summary>A socket TCP proxy listener <c>l1</c> tunnelling to the proxy at <paramref name="proxyAddress"/>.</summary>
    private static Dictionary<string, string?> L1(string proxyAddress, string hostname, string? idleTimeout = null) => new()
    {
        ["Listeners:l1:Address"] = "tcp://127.0.0.1:0",
        ["Listeners:l1:TcpProxy:ClusterId"] = "proxy",
        ["Listeners:l1:TcpProxy:IdleTimeout"] = idleTimeout,
        ["Listeners:l1:TcpProxy:Tunneling:Hostname"] = hostname,
        ["Clusters:proxy:Destinations:d1:Address"] = proxyAddress,
    };

    private static Task<JsonLinePeer> StartPythonProxyAsync(params string[] options)
    {
        Assert.True(File.Exists(Python), $"{Python} is required.");
        return JsonLinePeer.StartAsync(Python, [Path.Combine(RepoPaths.Interop, "python", "h1_connect_proxy.py"), .. options]);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Connect_ThroughSquidWithOneKiBInternalHop_50MiBEachWayByteExact()
    {
        await using var echo = TcpEchoServer.Start();
        using var squid = await ProxyPeers.StartSquidAsync([echo.Port]);
        var config = L1(squid.Address, $"127.0.0.1:{echo.Port}");
        // client → front (plain TCP proxy) → envoy-internal://l1 (1 KiB buffer) → l1 (tunnel) → squid → echo
        config["Listeners:l1:Address"] = "envoy-internal://l1";
        config["Listeners:l1:BufferSizeKb"] = "1";
        config["Listeners:front:Address"] = "tcp://127.0.0.1:0";
        config["Listeners:front:TcpProxy:ClusterId"] = "l1_cluster";
        config["Clusters:l1_cluster:Destinations:l1:Address"] = "envoy-internal://l1";
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(config), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();
        var payload = RandomNumberGenerator.GetBytes(50 * 1024 * 1024);

        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("front"), token);
        var reading = SocketIo.ReadExactlyAsync(client, payload.Length, token);
        await SocketIo.SendAllAsync(client, payload, token);
        var echoed = await reading;

        Bytes.AssertEqual(payload, echoed);
        var stats = host.Stats();
        Assert.Equal(payload.Length, stats["tcp.l1.downstream_cx_rx_bytes_total"]);
        Assert.Equal(payload.Length, stats["tcp.l1.downstream_cx_tx_bytes_total"]);
        Assert.Equal(1, stats["tcp.l1.downstream_cx_total"]);
    }

    [Fact]
    public async Task Connect_SquidAnswers403_DownstreamClosedNothingForwardedAndStatusCounted()
    {
        await using var echo = TcpEchoServer.Start();
        using var squid = await ProxyPeers.StartSquidAsync([FreePort.Get()]);
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(L1(squid.Address, $"127.0.0.1:{echo.Port}")), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();

        using var client = await SocketIo.ConnectUnlessResetAsync(host.TcpProxyPort("l1"), token);
        if (client is not null)
        {
            await SendUnlessClosedAsync(client, "hello"u8.ToArray(), token);
            Assert.Empty(await ReadUntilClosedAsync(client, token));
        }

        await host.WaitForStatAsync("tcp.l1.tunnel_fail_status_403", 1);
        await host.WaitForStatAsync("tcp.l1.downstream_cx_active", 0);
        Assert.Equal(0, echo.Accepted);
    }

    [Fact]
    public async Task Connect_ClientHalfCloses_UpstreamHalfClosedAndEchoStillFlowsBack()
    {
        await using var echo = TcpEchoServer.Start();
        using var proxy = await StartPythonProxyAsync();
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(L1($"tcp://127.0.0.1:{proxy.Port}", $"127.0.0.1:{echo.Port}")), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();
        var payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);

        // The echo server half-closes only after it read end of stream, so the read below ends only if the client's
        // FIN crossed the tunnel as a half-close (the connection kept open for the echo coming back).
        var echoedBack = await SocketIo.EchoThroughAsync(host.TcpProxyPort("l1"), payload, token);

        Bytes.AssertEqual(payload, echoedBack);
    }

    [Fact]
    public async Task Connect_BytesSentBeforeEstablishment_ArriveAfterItNeverBefore()
    {
        await using var echo = TcpEchoServer.Start();
        using var proxy = await StartPythonProxyAsync("--delay-ms", "400");
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(L1($"tcp://127.0.0.1:{proxy.Port}", $"127.0.0.1:{echo.Port}")), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();
        var early = "sent before the proxy answered"u8.ToArray();

        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("l1"), token);
        await SocketIo.SendAllAsync(client, early, token);
        var echoed = await SocketIo.ReadExactlyAsync(client, early.Length, token);

        Assert.Equal<byte>(early, echoed);
        var seen = await proxy.WaitForAsync("early");
        Assert.Equal(0, seen.GetProperty("early").GetInt32());
    }

    [Fact]
    public async Task Connect_ProxyAnswers503WithBody_ErrorPageNotRelayedClientClosedAndHeadFormatted()
    {
        await using var echo = TcpEchoServer.Start();
        using var proxy = await StartPythonProxyAsync("--status", "503");
        var config = L1($"tcp://127.0.0.1:{proxy.Port}", "127.0.0.1:%DOWNSTREAM_LOCAL_PORT%");
        config["Listeners:l1:TcpProxy:Tunneling:HeadersToAdd:foo"] = "bar";
        config["Listeners:l1:TcpProxy:Tunneling:HeadersToAdd:x-from"] = "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%";
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(config), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();
        var port = host.TcpProxyPort("l1");

        using var client = await SocketIo.ConnectAsync(port, token);
        await SendUnlessClosedAsync(client, "payload"u8.ToArray(), token);
        var received = await ReadUntilClosedAsync(client, token);

        Assert.Empty(received);
        await host.WaitForStatAsync("tcp.l1.tunnel_fail_status_503", 1);
        var request = await proxy.WaitForAsync("method");
        Assert.Equal("CONNECT", request.GetProperty("method").GetString());
        Assert.Equal($"127.0.0.1:{port}", request.GetProperty("target").GetString());
        var headers = request.GetProperty("headers");
        Assert.Equal($"127.0.0.1:{port}", headers.GetProperty("host").GetString());
        Assert.Equal("bar", headers.GetProperty("foo").GetString());
        Assert.Equal("127.0.0.1", headers.GetProperty("x-from").GetString());
    }

    [Fact]
    public async Task Connect_ProxyRefusesConnections_DownstreamClosedAndConnectFailureCounted()
    {
        using var refusing = FreePort.BindRefusing();
        var config = L1($"tcp://127.0.0.1:{((IPEndPoint)refusing.LocalEndPoint!).Port}", "host.com:443");
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(config), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();

        using var client = await SocketIo.ConnectUnlessResetAsync(host.TcpProxyPort("l1"), token);
        if (client is not null)
        {
            Assert.Empty(await ReadUntilClosedAsync(client, token));
        }

        await host.WaitForStatAsync("tcp.l1.tunnel_fail_connect", 1);
    }

    [Fact]
    public async Task Post_ToNode_ChunkedBothWaysAndClientFinEndsTheBody()
    {
        var node = ToolProcess.Require("node");
        using var server = await JsonLinePeer.StartAsync(node, Path.Combine(RepoPaths.Interop, "node", "post-echo-server.js"));
        var config = L1($"tcp://127.0.0.1:{server.Port}", "tunnel.example:443");
        config["Listeners:l1:TcpProxy:Tunneling:UsePost"] = "true";
        config["Listeners:l1:TcpProxy:Tunneling:PostPath"] = "/tunnel";
        config["Listeners:l1:TcpProxy:Tunneling:HeadersToAdd:foo"] = "bar";
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(config), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();
        var payload = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);

        // node ends its response only when the request body ended: the client's FIN became the last chunk.
        var echoedBack = await SocketIo.EchoThroughAsync(host.TcpProxyPort("l1"), payload, token);
        Bytes.AssertEqual(payload, echoedBack);
        var request = await server.WaitForAsync("method");
        Assert.Equal("POST", request.GetProperty("method").GetString());
        Assert.Equal("/tunnel", request.GetProperty("url").GetString());
        Assert.Equal("tunnel.example:443", request.GetProperty("host").GetString());
        Assert.Equal("chunked", request.GetProperty("te").GetString());
        Assert.Equal("bar", request.GetProperty("foo").GetString());
    }

    [Fact]
    public async Task Post_ThroughNginxWithoutBuffering_ReachesKestrelEchoBothWays()
    {
        await using var kestrel = await TestHost.StartAsync(b => b.ListenLoopback(), app => app.MapPost("/up", async context =>
        {
            // The tunnel is established by the response head: send it before the body arrives.
            await context.Response.StartAsync();
            await context.Response.Body.FlushAsync();
            await context.Request.Body.CopyToAsync(context.Response.Body);
        }));
        using var nginx = await ProxyPeers.StartNginxAsync(TestHost.Address(kestrel).Port);
        var config = L1(nginx.Address, "tunnel.example:443");
        config["Listeners:l1:TcpProxy:Tunneling:UsePost"] = "true";
        config["Listeners:l1:TcpProxy:Tunneling:PostPath"] = "/up";
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(config), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();

        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("l1"), token);
        // Interactive first: an answer before the request body ended proves neither direction is buffered in between.
        await SocketIo.SendAllAsync(client, "ping\n"u8.ToArray(), token);
        var pong = await SocketIo.ReadExactlyAsync(client, 5, token);
        Assert.Equal("ping\n"u8.ToArray(), pong);
        var payload = RandomNumberGenerator.GetBytes(1024 * 1024);
        var reading = SocketIo.ReadToEndAsync(client, token);
        await SocketIo.SendAllAsync(client, payload, token);
        client.Shutdown(SocketShutdown.Send);

        var echoedBack = await reading;
        Bytes.AssertEqual(payload, echoedBack);
    }

    [Fact]
    public async Task IdleTimeout_SilentTunnel_ClosedAndCounted()
    {
        await using var echo = TcpEchoServer.Start();
        using var proxy = await StartPythonProxyAsync();
        await using var host = await TunnelsTestHost.StartAsync(
            TunnelsTestHost.Section(L1($"tcp://127.0.0.1:{proxy.Port}", $"127.0.0.1:{echo.Port}", idleTimeout: "00:00:00.500")), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();

        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("l1"), token);
        await SocketIo.SendAllAsync(client, "x"u8.ToArray(), token);
        var echoed = await SocketIo.ReadExactlyAsync(client, 1, token);
        Assert.Equal("x"u8.ToArray(), echoed);

        await ReadUntilClosedAsync(client, token);
        await host.WaitForStatAsync("tcp.l1.idle_timeout", 1);
    }

    [Fact]
    public async Task IdleTimeout_OneWayStreamLongerThanTimeout_KeepsFlowing()
    {
        // A tick every 200 ms against a 1.5 s timeout: a slow machine may stretch a gap a long way before it times out.
        const int Ticks = 16;
        await using var ticker = TcpEchoServer.Start(async (socket, ct) =>
        {
            for (var i = 0; i < Ticks; i++)
            {
                await SocketIo.SendAllAsync(socket, new[] { (byte)i }, ct);
                await Task.Delay(200, ct);
            }
            socket.Shutdown(SocketShutdown.Send);
        });
        using var proxy = await StartPythonProxyAsync();
        await using var host = await TunnelsTestHost.StartAsync(
            TunnelsTestHost.Section(L1($"tcp://127.0.0.1:{proxy.Port}", $"127.0.0.1:{ticker.Port}", idleTimeout: "00:00:01.500")), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();

        // The client never sends: only upstream-to-downstream bytes keep the tunnel alive, for over twice the timeout.
        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("l1"), token);
        var received = await SocketIo.ReadToEndAsync(client, token);

        Assert.Equal(Enumerable.Range(0, Ticks).Select(i => (byte)i), received);
        Assert.Equal(0, host.Stats().GetValueOrDefault("tcp.l1.idle_timeout"));
    }

    [Fact]
    public async Task RequestedServerName_FromCurl_BecomesConnectAuthorityAndTlsPassesThrough()
    {
        var curl = ToolProcess.Require("curl");
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var origin = await TestHost.StartAsync(
            b => b.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate))),
            app => app.MapGet("/", () => "hello through the tunnel"));
        using var proxy = await StartPythonProxyAsync("--target", $"127.0.0.1:{TestHost.Address(origin).Port}");
        await using var host = await TunnelsTestHost.StartAsync(
            TunnelsTestHost.Section(L1($"tcp://127.0.0.1:{proxy.Port}", "%REQUESTED_SERVER_NAME%:443")), new InternalListenerRegistry());
        var port = Port(host.TcpProxyPort("l1"));

        var result = await ToolProcess.RunAsync(curl, ["-sS", "-k", "--max-time", "20", "--resolve", $"sni.example.test:{port}:127.0.0.1", $"https://sni.example.test:{port}/"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello through the tunnel", result.StdoutText);
        var request = await proxy.WaitForAsync("method");
        Assert.Equal("sni.example.test:443", request.GetProperty("target").GetString());
    }

    /// <summary>Sends, unless the refused tunnel already closed (reset) the connection: the refusal may win the race.</summary>
    private static async Task SendUnlessClosedAsync(Socket client, byte[] data, CancellationToken token)
    {
        try
        {
            await SocketIo.SendAllAsync(client, data, token);
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>Reads until the connection ends (FIN or reset) and returns what arrived.</summary>
    private static async Task<byte[]> ReadUntilClosedAsync(Socket client, CancellationToken token)
    {
        using var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException)
        {
            // Reset: closed too.
        }
        return received.ToArray();
    }
}
