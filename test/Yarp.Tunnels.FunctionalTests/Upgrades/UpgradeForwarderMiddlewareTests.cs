using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Upgrades;

namespace Yarp.Tunnels.FunctionalTests.Upgrades;

public class UpgradeForwarderMiddlewareTests
{
    private const string FooRequest =
        "POST /up/x?q=1 HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade\r\nUpgrade: foo\r\nX-Trace: t1\r\n\r\n";

    /// <summary>Gateway A (HTTP/1.1) → envoy-internal h2c gateway B → the backend, or A → backend directly.</summary>
    private static async Task<(WebApplication Front, WebApplication? Hop)> StartGatewaysAsync(
        InternalListenerRegistry registry, UpgradeForwarderBackend backend, bool viaHttp2Hop, string backendVersion = "1.1")
    {
        if (!viaHttp2Hop)
        {
            return (await UpgradeForwarderGateway.StartAsync(registry, backend.Address, backendVersion), null);
        }
        var hop = await UpgradeForwarderGateway.StartAsync(registry, backend.Address, backendVersion, HttpProtocols.Http2, internalName: "gateway-b");
        var front = await UpgradeForwarderGateway.StartAsync(registry, "envoy-internal://gateway-b", "2.0");
        return (front, hop);
    }

    /// <summary>Every gateway counted the upgrades it established, and none is still open.</summary>
    private static async Task AssertUpgradesEndedAsync(long established, params WebApplication?[] gateways)
    {
        foreach (var (gateway, index) in gateways.OfType<WebApplication>().Select((g, i) => (g, i)))
        {
            using var timeout = new CancellationTokenSource(TestHost.Timeout);
            while (gateway.Stats().GetValueOrDefault(UpgradeForwarderGateway.UpgradesActive) != 0)
            {
                Assert.False(timeout.IsCancellationRequested, $"Gateway {index}'s upgrade is still open after {TestHost.Timeout}.");
                await Task.Delay(20);
            }
            Assert.Equal(established, gateway.Stats().GetValueOrDefault(UpgradeForwarderGateway.UpgradesTotal));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ForwardAsync_FooUpgradeWithPost_BackendSeesPostAndBytesEchoBothWays(bool viaHttp2Hop)
    {
        await using var backend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http1);
        var (front, hop) = await StartGatewaysAsync(new InternalListenerRegistry(), backend, viaHttp2Hop);
        await using var _ = front;
        await using var __ = hop;
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(front));

        // Bytes right behind the upgrade request (before any 101) are the most of a request body an upgrade can carry.
        await client.SendAsync(FooRequest + "early");
        var head = await client.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", head, StringComparison.Ordinal);
        Assert.Contains("\r\nUpgrade: foo\r\n", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nConnection: Upgrade\r\n", head, StringComparison.OrdinalIgnoreCase);

        var greeting = "POST /up/x?q=1 HTTP/1.1 foo\n";
        Assert.Equal(greeting + "early", await client.ReadAsync(greeting.Length + 5));
        await client.SendAsync("more bytes");
        Assert.Equal("more bytes", await client.ReadAsync(10));

        var received = Assert.Single(backend.Received);
        Assert.Equal("POST", received.Method);
        Assert.Equal("t1", received.Headers["X-Trace"]);
        Assert.False(received.Headers.ContainsKey(UpgradeForwarderRequest.MethodHeader));
        Assert.Equal("http", received.Headers["X-Forwarded-Proto"]);
        if (!viaHttp2Hop)
        {
            Assert.Contains("127.0.0.1", received.Headers["X-Forwarded-For"], StringComparison.Ordinal);
        }
        Assert.Equal("earlymore bytes", received.Text);
        await client.DisposeAsync();
        await AssertUpgradesEndedAsync(1, front, hop);
    }

    [Fact]
    public async Task ForwardAsync_FooToHttp2Backend_ExtendedConnectCarriesMethodAndBackendEndClosesClient()
    {
        await using var backend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http2);
        var (front, _) = await StartGatewaysAsync(new InternalListenerRegistry(), backend, viaHttp2Hop: false, backendVersion: "2.0");
        await using var __ = front;
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(front));

        await client.SendAsync(FooRequest);
        Assert.StartsWith("HTTP/1.1 101 ", await client.ReadHeadAsync(), StringComparison.Ordinal);
        await client.SendAsync("ping quit");

        // The backend's end of stream ends the client's connection once its last bytes were delivered.
        Assert.Equal("CONNECT /up/x?q=1 HTTP/2 foo\nping quitbye\n", await client.ReadToEndAsync());
        var received = Assert.Single(backend.Received);
        Assert.Equal("CONNECT", received.Method);
        Assert.Equal("foo", received.Token);
        Assert.Equal("POST", received.Headers[UpgradeForwarderRequest.MethodHeader]);
        await AssertUpgradesEndedAsync(1, front);
    }

    [Fact]
    public async Task ForwardAsync_DefaultVersionToHttpsBackendWithoutHttp2_ExtendedConnectRetriedAsHttp11Upgrade()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var backend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http1, certificate);
        // YARP's default (2.0, or lower) to an https destination: extended CONNECT first, as YARP does for WebSockets.
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(), backend.Address, version: null);
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(gateway));

        await client.SendAsync(FooRequest + "tls");
        Assert.StartsWith("HTTP/1.1 101 ", await client.ReadHeadAsync(), StringComparison.Ordinal);
        var greeting = "POST /up/x?q=1 HTTP/1.1 foo\n";
        Assert.Equal(greeting + "tls", await client.ReadAsync(greeting.Length + 3));
        Assert.Equal("POST", Assert.Single(backend.Received).Method);
        await client.DisposeAsync();
        await AssertUpgradesEndedAsync(1, gateway);
    }

    [Theory]
    [InlineData(426, false)]
    [InlineData(401, false)]
    [InlineData(200, false)]
    [InlineData(401, true)]
    [InlineData(200, true)]
    public async Task ForwardAsync_BackendRefuses_RelayedAsResponseAndNothingAfterItReachesAnyone(int status, bool viaHttp2Hop)
    {
        await using var backend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http1);
        var (front, hop) = await StartGatewaysAsync(new InternalListenerRegistry(), backend, viaHttp2Hop);
        await using var _ = front;
        await using var __ = hop;
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(front));

        // A second request in the same write: if anyone took the upgrade as failed-but-open, it would be parsed or relayed.
        await client.SendAsync(FooRequest.Replace("/up/x?q=1", $"/refuse/{status}", StringComparison.Ordinal)
            + "GET /smuggled HTTP/1.1\r\nHost: gateway\r\n\r\n");
        var response = await client.ReadToEndAsync();

        if (status == 200 && viaHttp2Hop)
        {
            // Gateway B may not answer the extended CONNECT with a 2xx that did not switch: that would mean "established".
            Assert.StartsWith("HTTP/1.1 502 ", response, StringComparison.Ordinal);
            Assert.True(response.Contains("Proxy-Status: yarp-tunnels; error=http_protocol_error", StringComparison.OrdinalIgnoreCase), response);
            Assert.Equal("", Assert.Single(backend.Received).Text);
            await AssertUpgradesEndedAsync(0, front, hop);
            return;
        }
        Assert.StartsWith($"HTTP/1.1 {status} ", response, StringComparison.Ordinal);
        Assert.Contains("\r\nx-refused: yes\r\n", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nConnection: close\r\n", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nrefused by backend\r\n", response, StringComparison.Ordinal);
        Assert.Equal(1, CountOccurrences(response, "HTTP/1.1 "));
        var received = Assert.Single(backend.Received);
        Assert.Equal($"/refuse/{status}", received.PathAndQuery);
        Assert.Equal("", received.Text);
        await AssertUpgradesEndedAsync(0, front, hop);
    }

    [Theory]
    [InlineData("refused", 502)]
    [InlineData("timeout", 504)]
    public async Task ForwardAsync_BackendUnreachable_ClientGetsErrorAndNothingIsCounted(string failure, int status)
    {
        await using var backend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http1);
        var destination = failure == "refused" ? $"http://127.0.0.1:{FreePort.Get()}" : backend.Address;
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(), destination, "1.1",
            activityTimeout: failure == "timeout" ? "00:00:01" : null);
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(gateway));

        await client.SendAsync(FooRequest.Replace("/up/x?q=1", "/hang", StringComparison.Ordinal));
        var response = await client.ReadToEndAsync();

        Assert.StartsWith($"HTTP/1.1 {status} ", response, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: close\r\n", response, StringComparison.OrdinalIgnoreCase);
        await AssertUpgradesEndedAsync(0, gateway);
    }

    [Fact]
    public async Task ForwardAsync_RefusalSeenByCurl_StatusHeadersAndBody()
    {
        var curl = ToolProcess.Require("curl");
        await using var backend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http1);
        var (front, hop) = await StartGatewaysAsync(new InternalListenerRegistry(), backend, viaHttp2Hop: true);
        await using var _ = front;
        await using var __ = hop;

        var result = await ToolProcess.RunAsync(curl, ["-sv", "--http1.1", "-H", "Connection: Upgrade", "-H", "Upgrade: foo",
            "-X", "POST", new Uri(TestHost.Address(front), "/refuse/426").ToString()]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("refused by backend", result.StdoutText);
        Assert.Contains("< HTTP/1.1 426", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("POST", Assert.Single(backend.Received).Method);
    }

    [Theory]
    [InlineData("POST", false)]
    [InlineData("GET", false)]
    [InlineData("POST", true)]
    public async Task ForwardAsync_ExtendedConnectFooFromPythonH2_MethodKeptEarlyDataDeliveredAndStreamEnds(string method, bool http2Backend)
    {
        await using var backend = await UpgradeForwarderBackend.StartAsync(http2Backend ? HttpProtocols.Http2 : HttpProtocols.Http1);
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(),
            backend.Address, http2Backend ? "2.0" : "1.1", HttpProtocols.Http2);

        using var result = await RunH2ClientAsync(TestHost.Address(gateway).Port, "tunnel", "/up/h2?x=2", method);

        Assert.Equal(200, result.RootElement.GetProperty("status").GetInt32());
        // The DATA sent before the 200 is the first the backend read; the client's END_STREAM did not stop the echo, and
        // the backend's end became the client's END_STREAM.
        var backendView = http2Backend ? "CONNECT /up/h2?x=2 HTTP/2" : $"{method} /up/h2?x=2 HTTP/1.1";
        Assert.Equal($"{backendView} foo\nearlyping quitbye\n", result.RootElement.GetProperty("data").GetString());
        Assert.True(result.RootElement.GetProperty("ended").GetBoolean());
        var received = Assert.Single(backend.Received);
        Assert.Equal("foo", received.Token);
        if (http2Backend)
        {
            // HTTP/2 to HTTP/2: the method header travels on to the hop that will restore it.
            Assert.Equal(method, received.Headers[UpgradeForwarderRequest.MethodHeader]);
        }
        else
        {
            Assert.Equal(method, received.Method);
            Assert.False(received.Headers.ContainsKey(UpgradeForwarderRequest.MethodHeader));
        }
        await AssertUpgradesEndedAsync(1, gateway);
    }

    [Theory]
    [InlineData(401, 401)]
    [InlineData(426, 426)]
    [InlineData(200, 502)]
    public async Task ForwardAsync_ExtendedConnectFooRefusedByHttp1Backend_PythonH2SeesResponseAndNoByteReachesBackend(int backendStatus, int clientStatus)
    {
        await using var backend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http1);
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(),
            backend.Address, "1.1", HttpProtocols.Http2);

        using var result = await RunH2ClientAsync(TestHost.Address(gateway).Port, "tunnel", $"/refuse/{backendStatus}");

        Assert.Equal(clientStatus, result.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(clientStatus == 502 ? "" : "refused by backend", result.RootElement.GetProperty("data").GetString());
        Assert.True(result.RootElement.GetProperty("ended").GetBoolean());
        Assert.Equal("", Assert.Single(backend.Received).Text);
        await AssertUpgradesEndedAsync(0, gateway);
    }

    [Theory]
    [InlineData("Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n", 400, "missing or invalid Sec-WebSocket-Key")]
    [InlineData("Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n", 400, "missing or invalid Sec-WebSocket-Key")]
    [InlineData("Upgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 426, "Sec-WebSocket-Version must be 13")]
    [InlineData("", 400, "Connection: upgrade without an Upgrade header")]
    public async Task InvokeAsync_MalformedHttp1Upgrade_GatewayAnswers4xxAndClosesBeforeAnythingIsForwarded(string headers, int status, string reason)
    {
        await using var backend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http1);
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(),
            backend.Address, "1.1");
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(gateway));

        await client.SendAsync($"GET /ws HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade\r\n{headers}\r\n"
            + "GET /smuggled HTTP/1.1\r\nHost: gateway\r\n\r\n");
        var response = await client.ReadToEndAsync();

        Assert.StartsWith($"HTTP/1.1 {status} ", response, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: close\r\n", response, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith(reason, response, StringComparison.Ordinal);
        Assert.Equal(status == 426, response.Contains("\r\nSec-WebSocket-Version: 13\r\n", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(1, CountOccurrences(response, "HTTP/1.1 "));
        Assert.Empty(backend.Received);
        await AssertUpgradesEndedAsync(0, gateway);
    }

    [Fact]
    public async Task ExtendedConnectWithoutPath_FromPythonH2_KestrelResetsTheStreamAndTheConnectionServesTheNext()
    {
        await using var backend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http1);
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(),
            backend.Address, "1.1", HttpProtocols.Http2);

        using var result = await RunH2ClientAsync(TestHost.Address(gateway).Port, "no-path", "/refuse/401");

        Assert.Equal(1, result.RootElement.GetProperty("reset").GetInt32()); // PROTOCOL_ERROR, from Kestrel's HTTP/2 layer
        Assert.Equal(401, result.RootElement.GetProperty("next_status").GetInt32());
        Assert.Equal("/refuse/401", Assert.Single(backend.Received).PathAndQuery);
    }

    [Fact]
    public async Task ForwardAsync_Http2ClientResetsAfterEndStream_UpgradeToBackendWithoutHalfCloseEnds()
    {
        // Gateway B of the two-hop tests on a socket: the HTTP/1.1 backend has no half-close, so after the client's
        // END_STREAM only the client's RST_STREAM (what SocketsHttpHandler sends when gateway A disposes its stream) can
        // end the upgrade; it used to stay open until the backend ended it.
        await using var backend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http1);
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(),
            backend.Address, "1.1", HttpProtocols.Http2);
        var script = Path.Combine(AppContext.BaseDirectory, "Upgrades", "h2_extended_connect.py");
        using var client = ToolProcess.StartBackground("/usr/bin/python3",
            [script, TestHost.Address(gateway).Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "reset", "/up/x"]);

        // The script prints once its reset was acknowledged, then holds the connection open: only the reset can end the upgrade.
        using var timeout = new CancellationTokenSource(TestHost.Timeout);
        while (!client.Output.Contains('}', StringComparison.Ordinal))
        {
            Assert.False(client.HasExited || timeout.IsCancellationRequested, "The HTTP/2 client did not reset its stream: " + client.Output);
            await Task.Delay(20);
        }
        using var result = System.Text.Json.JsonDocument.Parse(client.Output);
        Assert.Equal(200, result.RootElement.GetProperty("status").GetInt32());
        Assert.EndsWith("ping", result.RootElement.GetProperty("data").GetString(), StringComparison.Ordinal);
        await AssertUpgradesEndedAsync(1, gateway);
        Assert.False(client.HasExited, "The client's connection must still be open: " + client.Output);
        Assert.Equal("ping", Assert.Single(backend.Received).Text);
    }

    [Fact]
    public async Task ForwardAsync_Http1ClientShutsDownSend_BytesReachTcpBackendAndUpstreamEnds()
    {
        await using var backend = RawUpgradeBackend.Start();
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(), backend.Address, "1.1");
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(gateway));

        await client.SendAsync("GET /x HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 101 ", await client.ReadHeadAsync(), StringComparison.Ordinal);
        await client.SendAsync("in flight");
        client.ShutdownWrite();

        // Kestrel cannot half-close an upgraded HTTP/1.1 connection, so the client's FIN ends the upgrade: the backend
        // gets what was sent before it, then its connection ends too instead of staying open behind a closed client.
        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal("eof", await backend.Ended);
        Assert.Equal("in flight", backend.Received);
        await AssertUpgradesEndedAsync(1, gateway);
    }

    [Fact]
    public async Task ForwardAsync_TcpBackendCloses_Http1ClientConnectionEnds()
    {
        await using var backend = RawUpgradeBackend.Start();
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(), backend.Address, "1.1");
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(gateway));

        await client.SendAsync("GET /x HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 101 ", await client.ReadHeadAsync(), StringComparison.Ordinal);
        await client.SendAsync("ping");
        await backend.WaitForReceivedAsync("ping");
        await backend.CloseAsync();

        // The backend's FIN ends the upgrade (the client's side cannot be half-closed): the client sees its connection
        // end, and the gateway closes its upstream leg instead of keeping it open for bytes no one can send any more.

        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal("eof", await backend.Ended);
        Assert.Equal("ping", backend.Received);
        await AssertUpgradesEndedAsync(1, gateway);
    }

    private static async Task<System.Text.Json.JsonDocument> RunH2ClientAsync(int port, string mode, string path, string method = "GET")
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Upgrades", "h2_extended_connect.py");
        var result = await ToolProcess.RunAsync("/usr/bin/python3", [script, port.ToString(System.Globalization.CultureInfo.InvariantCulture), mode, path, method]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return System.Text.Json.JsonDocument.Parse(result.Stdout);
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
