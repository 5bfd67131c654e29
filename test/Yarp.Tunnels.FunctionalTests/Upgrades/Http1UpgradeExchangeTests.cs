using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Upgrades;

/// <summary>
/// HTTP/1.1 upgrades to plain http:// destinations go on a connection of the forwarder's own (request head written by
/// hand, the backend's answer read by hand): against raw TCP backends that answer exactly what each test needs.
/// </summary>
public class Http1UpgradeExchangeTests
{
    private const string FooRequest = "GET /up/x?q=1 HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade\r\nUpgrade: foo\r\nX-Trace: t1\r\n\r\n";

    [Fact]
    public async Task ForwardAsync_WebSocketFromHttp1Client_TransformedHeadSentAndBackendAnswerRelayed()
    {
        await using var backend = RawUpgradeBackend.Start(echo: true, response:
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(), backend.Address, "1.1");
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(gateway));

        await client.SendAsync("GET /chat?x=1 HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n");
        var head = await client.ReadHeadAsync();
        await client.SendAsync("frame");

        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
        Assert.Contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nUpgrade: websocket\r\n", head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("frame", await client.ReadAsync(5));
        var sent = await backend.Head;
        Assert.StartsWith("GET /chat?x=1 HTTP/1.1\r\nHost: 127.0.0.1:", sent, StringComparison.Ordinal);
        Assert.Contains("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", sent, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: Upgrade\r\n", sent, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nUpgrade: websocket\r\n", sent, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nCookie: a=1; b=2\r\n", sent, StringComparison.Ordinal);
        Assert.Contains("\r\nX-Forwarded-For: 127.0.0.1\r\n", sent, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, gateway.Stats().GetValueOrDefault(UpgradeForwarderGateway.UpgradesActive));
        // Counted for LeastRequests while open, as YARP counts a WebSocket it forwards; uncounted once it ended.
        Assert.True(gateway.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster("backend", out var cluster));
        var destination = cluster.Destinations["d1"];
        Assert.Equal(1, destination.ConcurrentRequestCount);
        await client.DisposeAsync();
        using var timeout = new CancellationTokenSource(TestHost.Timeout);
        while (destination.ConcurrentRequestCount != 0 || gateway.Stats().GetValueOrDefault(UpgradeForwarderGateway.UpgradesActive) != 0)
        {
            Assert.False(timeout.IsCancellationRequested, "The WebSocket is still counted after its client went away.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task ForwardAsync_IdleWebSocket_ClosedAfterTheClustersActivityTimeoutAsYarpDoes()
    {
        await using var backend = RawUpgradeBackend.Start(echo: true, response:
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(), backend.Address, "1.1", activityTimeout: "00:00:01");
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(gateway));

        await client.SendAsync("GET /chat HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 101 ", await client.ReadHeadAsync(), StringComparison.Ordinal);
        await client.SendAsync("frame");
        Assert.Equal("frame", await client.ReadAsync(5));

        // Then silence: the relay resets both sides after the cluster's ActivityTimeout, as YARP's own WebSocket forwarding does.
        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal("reset", await backend.Ended);
    }

    [Fact]
    public async Task ForwardAsync_BackendSendsBytesWithIts101_ClientGetsThemFirst()
    {
        await using var backend = RawUpgradeBackend.Start(response: "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\nhello");
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(), backend.Address, "1.1");
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(gateway));

        await client.SendAsync(FooRequest);

        Assert.StartsWith("HTTP/1.1 101 ", await client.ReadHeadAsync(), StringComparison.Ordinal);
        Assert.Equal("hello", await client.ReadAsync(5));
        await client.SendAsync("ping");
        await backend.WaitForReceivedAsync("ping");
    }

    [Theory]
    [InlineData("HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\nX-Refused: yes\r\n\r\n3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: t\r\n\r\n", 401)]
    [InlineData("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 5\r\nX-Refused: yes\r\n\r\nhello", 426)]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Refused: yes\r\n\r\nhello", 200)]
    public async Task ForwardAsync_BackendRefusesWithItsFraming_CurlGetsStatusHeadersAndBody(string response, int status)
    {
        var curl = ToolProcess.Require("curl");
        await using var backend = RawUpgradeBackend.Start(response: response);
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(), backend.Address, "1.1");

        var result = await ToolProcess.RunAsync(curl, ["-sv", "--http1.1", "-H", "Connection: Upgrade", "-H", "Upgrade: foo",
            new Uri(TestHost.Address(gateway), "/up/x").ToString()]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("hello", result.StdoutText);
        Assert.Contains($"< HTTP/1.1 {status} ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("< x-refused: yes", result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, gateway.Stats().GetValueOrDefault(UpgradeForwarderGateway.UpgradesTotal));
    }

    [Theory]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nBad Header: x\r\n\r\n")]
    [InlineData("HTTP/1.1 abc Nope\r\n\r\n")]
    [InlineData("HTTP/1.1 401 Unauthorized\r\nContent-Length: five\r\n\r\nhello")]
    public async Task ForwardAsync_MalformedBackendAnswer_ClientGets502AndNothingIsCounted(string response)
    {
        await using var backend = RawUpgradeBackend.Start(response: response);
        await using var gateway = await UpgradeForwarderGateway.StartAsync(new InternalListenerRegistry(), backend.Address, "1.1");
        await using var client = await RawHttpClient.ConnectAsync(TestHost.Address(gateway));

        await client.SendAsync(FooRequest);
        var answer = await client.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 502 ", answer, StringComparison.Ordinal);
        Assert.Equal(0, gateway.Stats().GetValueOrDefault(UpgradeForwarderGateway.UpgradesTotal));
    }
}
