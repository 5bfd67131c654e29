using System.Net.Sockets;
using System.Text;
using Yarp.Tunnels.FunctionalTests.Common;
using static Yarp.Tunnels.FunctionalTests.Connect.ConnectGateway;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary>HTTP/1.1 CONNECT termination through the connection shim: curl, socat and raw sockets against real targets.</summary>
public sealed class ConnectHttp1Tests(ConnectFixture fixture) : IClassFixture<ConnectFixture>
{
    private const string Refused = "http.default.downstream_rq_ws_on_non_ws_route";

    private ConnectGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Connect_CurlProxytunnel_ReachesHttpBackend()
    {
        var curl = await ToolProcess.RunAsync(ToolProcess.Require("curl"),
            ["-s", "-v", "--max-time", "20", "-p", "-x", $"http://127.0.0.1:{Gateway.Http1Port}", $"http://127.0.0.1:{fixture.BackendPort}/"]);

        Assert.True(curl.ExitCode == 0, curl.ToString());
        Assert.Equal("backend HTTP/1.1", curl.StdoutText);
        Assert.Contains("< HTTP/1.1 200 Connection established", curl.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_CurlHttps_TlsThroughTheTunnel()
    {
        var curl = await ToolProcess.RunAsync(ToolProcess.Require("curl"),
            ["-s", "-k", "--max-time", "20", "-x", $"http://127.0.0.1:{Gateway.Http1Port}", $"https://127.0.0.1:{fixture.TlsBackendPort}/"]);

        Assert.True(curl.ExitCode == 0, curl.ToString());
        Assert.Contains("tls backend", curl.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_OverTlsListener_CurlProxyHttps()
    {
        var curl = await ToolProcess.RunAsync(ToolProcess.Require("curl"),
            ["-s", "-k", "--proxy-insecure", "--max-time", "20", "-p", "-x", $"https://127.0.0.1:{Gateway.TlsPort}", $"http://127.0.0.1:{fixture.BackendPort}/"]);

        Assert.True(curl.ExitCode == 0, curl.ToString());
        Assert.Equal("backend HTTP/1.1", curl.StdoutText);
    }

    [Fact]
    public async Task Connect_Socat_Http10WithoutHost_Echoes()
    {
        var socat = await ToolProcess.RunAsync(ToolProcess.Require("socat"),
            ["-t", "5", "-", $"PROXY:127.0.0.1:127.0.0.1:{fixture.Echo.Port},proxyport={Gateway.Http1Port}"], Encoding.ASCII.GetBytes("hello through socat\n"));

        Assert.True(socat.ExitCode == 0, socat.ToString());
        Assert.Equal("hello through socat\n", socat.StdoutText);
    }

    [Fact]
    public async Task Connect_PipelinedPayloadAndHalfClose_ReachTargetAndComeBack()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var payload = Payload.Expected(300_000);
        var head = $"CONNECT 127.0.0.1:{Port(fixture.Echo.Port)} HTTP/1.1\r\nHost: 127.0.0.1:{Port(fixture.Echo.Port)}\r\n\r\n";
        var (socket, response, extra) = await Gateway.SendConnectAsync(head, payload[..1000], cts.Token);
        using (socket)
        {
            Assert.StartsWith("HTTP/1.1 200 Connection established\r\n\r\n", response, StringComparison.Ordinal);
            Assert.DoesNotContain("Content-Length", response, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Transfer-Encoding", response, StringComparison.OrdinalIgnoreCase);
            await SocketIo.SendAllAsync(socket, payload.AsMemory(1000), cts.Token);
            socket.Shutdown(SocketShutdown.Send);

            // The echo target half-closes back once it read our FIN: everything arrives, then end of stream.
            var echoed = extra.Concat(await SocketIo.ReadToEndAsync(socket, cts.Token)).ToArray();
            Bytes.AssertEqual(payload, echoed, "echo through the tunnel");
        }
        await Gateway.App.WaitForStatAsync("http.default.connect_tunnels_active", 0);
    }

    [Fact]
    public async Task Connect_SecondRequestOnKeepAliveConnection_BecomesTunnel()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var head = "GET /nothing HTTP/1.1\r\nHost: unrouted.test\r\n\r\n";
        var (socket, first, _) = await Gateway.SendConnectAsync(head, cancellationToken: cts.Token);
        using (socket)
        {
            Assert.StartsWith("HTTP/1.1 404", first, StringComparison.Ordinal);
            var connect = $"CONNECT 127.0.0.1:{Port(fixture.Echo.Port)} HTTP/1.1\r\nHost: 127.0.0.1:{Port(fixture.Echo.Port)}\r\n\r\nping";
            await SocketIo.SendAllAsync(socket, Encoding.ASCII.GetBytes(connect), cts.Token);
            var (second, extra) = await ReadHeadAsync(socket, cts.Token);
            Assert.StartsWith("HTTP/1.1 200 Connection established", second, StringComparison.Ordinal);
            socket.Shutdown(SocketShutdown.Send);
            Assert.Equal("ping", Encoding.ASCII.GetString(extra.Concat(await SocketIo.ReadToEndAsync(socket, cts.Token)).ToArray()));
        }
    }

    [Theory]
    [InlineData("off.test:443", "route with Connect:Enabled false")]
    [InlineData("nomatch.test:443", "no route at all")]
    public async Task Connect_NotEnabled_403WithProxyStatusAndCounted(string target, string why)
    {
        var before = Gateway.Stat(Refused);

        var curl = await ToolProcess.RunAsync(ToolProcess.Require("curl"),
            ["-s", "-v", "--max-time", "10", "-p", "-x", $"http://127.0.0.1:{Gateway.Http1Port}", $"http://{target}/"]);

        Assert.Contains("< HTTP/1.1 403", curl.Stderr, StringComparison.Ordinal);
        Assert.Contains("< Proxy-Status: yarp-tunnels; error=http_request_denied", curl.Stderr, StringComparison.Ordinal);
        Assert.True(before + 1 == Gateway.Stat(Refused), why);
    }

    [Theory]
    [InlineData("localhost:443", 403, "error=destination_ip_prohibited")]         // resolves to loopback
    [InlineData("127.0.0.1:443", 403, "error=destination_ip_prohibited")]         // allowed by "*" on 443, but loopback
    [InlineData("strict.test:8080", 403, "error=destination_ip_prohibited")]      // port not allowed
    [InlineData("does-not-exist.invalid:443", 502, "error=dns_error")]
    public async Task Connect_TargetPolicyAndDns_Refused(string target, int status, string proxyStatus)
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var (socket, response, _) = await Gateway.SendConnectAsync($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n", cancellationToken: cts.Token);
        using (socket)
        {
            Assert.StartsWith($"HTTP/1.1 {status}", response, StringComparison.Ordinal);
            Assert.Contains(proxyStatus, response, StringComparison.Ordinal);
            Assert.Contains("Connection: close", response, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Connect_ClosedPort_502()
    {
        var target = $"127.0.0.1:{Port(fixture.RefusingPort)}";
        var (socket, response, _) = await Gateway.SendConnectAsync($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n", cancellationToken: TestHost.TimeoutToken());
        socket.Dispose();

        Assert.StartsWith("HTTP/1.1 502", response, StringComparison.Ordinal);
        Assert.Contains("Proxy-Status: yarp-tunnels; error=connection_refused", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_HangingConnect_504AfterConnectTimeout()
    {
        var target = $"127.0.0.1:{Port(fixture.HangingPort)}";
        var (socket, response, _) = await Gateway.SendConnectAsync($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n", cancellationToken: TestHost.TimeoutToken());
        socket.Dispose();

        Assert.StartsWith("HTTP/1.1 504", response, StringComparison.Ordinal);
        Assert.Contains("Proxy-Status: yarp-tunnels; error=connection_timeout", response, StringComparison.Ordinal);
    }
}
