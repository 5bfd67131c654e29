using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary>
/// <c>Mode: Proxy</c>: CONNECT forwarded to a destination that is itself a proxy (squid, or a second gateway that
/// terminates), with the upstream's refusal relayed.
/// </summary>
public class ProxyModeTests
{
    private static async Task<ConnectGateway> StartProxyAsync(string upstreamAddress, string? version = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Routes:forward:ClusterId"] = "upstream_proxy",
            ["Routes:forward:Match:Hosts:0"] = "*",
            ["Routes:forward:Connect:Mode"] = "Proxy",
            ["Routes:forward:Connect:ConnectTimeout"] = "00:00:05",
            ["Clusters:upstream_proxy:Destinations:d1:Address"] = upstreamAddress,
        };
        if (version is not null)
        {
            settings["Clusters:upstream_proxy:HttpRequest:Version"] = version;
            settings["Clusters:upstream_proxy:HttpRequest:VersionPolicy"] = "RequestVersionExact";
        }
        return await ConnectGateway.StartAsync(TunnelsTestHost.Section(settings), TestCertificates.CreateSelfSigned());
    }

    [Fact]
    public async Task Proxy_CurlThroughSquid_ReachesBackend()
    {
        var curl = ToolProcess.Require("curl");
        await using var backend = await TestHost.StartAsync(b => b.ListenLoopback(), BackendApp.Map);
        var backendPort = TestHost.Address(backend).Port;
        using var squid = await ProxyPeers.StartSquidAsync([backendPort]);
        await using var gateway = await StartProxyAsync($"tcp://127.0.0.1:{squid.Port}");

        var result = await ToolProcess.RunAsync(curl, ["-sS", "-p", "-x", $"http://127.0.0.1:{gateway.Http1Port}",
            $"http://127.0.0.1:{backendPort}/hello"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"hello HTTP/1.1 host=127.0.0.1:{backendPort}", result.StdoutText);
    }

    [Fact]
    public async Task Proxy_RawClientThroughSquid_EchoesOneMiBByteExact()
    {
        await using var echo = TcpEchoServer.Start();
        using var squid = await ProxyPeers.StartSquidAsync([echo.Port]);
        await using var gateway = await StartProxyAsync($"tcp://127.0.0.1:{squid.Port}");
        var token = TestHost.TimeoutToken();

        var (socket, head, extra) = await gateway.SendConnectAsync($"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\nHost: 127.0.0.1:{echo.Port}\r\n\r\n", cancellationToken: token);
        using var _ = socket;
        Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
        Assert.Empty(extra);
        var payload = RandomNumberGenerator.GetBytes(1024 * 1024);
        var send = SocketIo.SendAllAsync(socket, payload, token);
        var received = await SocketIo.ReadExactlyAsync(socket, payload.Length, token);
        await send;

        Bytes.AssertEqual(payload, received, "echo through the gateway and squid");
    }

    [Fact]
    public async Task Proxy_SquidRefusesPort_403WithSquidHeadersRelayed()
    {
        await using var echo = TcpEchoServer.Start();
        using var squid = await ProxyPeers.StartSquidAsync([echo.Port]);
        await using var gateway = await StartProxyAsync($"tcp://127.0.0.1:{squid.Port}");
        var refusedPort = echo.Port == 65000 ? 65001 : 65000;

        var (socket, head, _) = await gateway.SendConnectAsync($"CONNECT 127.0.0.1:{refusedPort} HTTP/1.1\r\nHost: 127.0.0.1:{refusedPort}\r\n\r\n",
            cancellationToken: TestHost.TimeoutToken());
        using var _ = socket;

        Assert.StartsWith("HTTP/1.1 403", head, StringComparison.Ordinal);
        Assert.Contains("X-Squid-Error: ERR_ACCESS_DENIED", head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("yarp-tunnels;", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_Http2UpstreamNghttpxInFrontOfSquid_EchoesAndRelays403()
    {
        await using var echo = TcpEchoServer.Start();
        using var squid = await ProxyPeers.StartSquidAsync([echo.Port]);
        using var nghttpx = await ProxyPeers.StartNghttpxAsync(squid.Port);
        await using var gateway = await StartProxyAsync(nghttpx.Address, version: "2");
        var token = TestHost.TimeoutToken();

        // Two tunnels at once: both ride one HTTP/2 connection to nghttpx, which opens an HTTP/1.1 CONNECT to squid each.
        var payloads = new[] { RandomNumberGenerator.GetBytes(512 * 1024), RandomNumberGenerator.GetBytes(512 * 1024) };
        await Task.WhenAll(payloads.Select(async payload =>
        {
            var (socket, head, _) = await gateway.SendConnectAsync($"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\nHost: 127.0.0.1:{echo.Port}\r\n\r\n", cancellationToken: token);
            using var _ = socket;
            Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
            var send = SocketIo.SendAllAsync(socket, payload, token);
            var echoed = await SocketIo.ReadExactlyAsync(socket, payload.Length, token);
            await send;
            Bytes.AssertEqual(payload, echoed, "echo through HTTP/2 to nghttpx and squid");
        }));

        var refusedPort = echo.Port == 65000 ? 65001 : 65000;
        var (refused, refusal, _) = await gateway.SendConnectAsync($"CONNECT 127.0.0.1:{refusedPort} HTTP/1.1\r\nHost: 127.0.0.1:{refusedPort}\r\n\r\n", cancellationToken: token);
        using var __ = refused;
        Assert.StartsWith("HTTP/1.1 403", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_UpstreamGatewayRefusesTarget_StatusAndProxyStatusRelayed()
    {
        await using var echo = TcpEchoServer.Start();
        // A second gateway terminates with the default policy: a loopback target is refused with 403 and Proxy-Status.
        await using var upstream = await ConnectGateway.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Routes:terminate:ClusterId"] = "original",
            ["Routes:terminate:Match:Hosts:0"] = "*",
            ["Routes:terminate:Connect:Policy:AllowedPorts:0"] = echo.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Clusters:original:Metadata:Connect.OriginalDestination"] = "true",
        }), TestCertificates.CreateSelfSigned());
        await using var gateway = await StartProxyAsync($"tcp://127.0.0.1:{upstream.Http1Port}");

        var (socket, head, _) = await gateway.SendConnectAsync($"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\nHost: 127.0.0.1:{echo.Port}\r\n\r\n",
            cancellationToken: TestHost.TimeoutToken());
        using var _ = socket;

        Assert.StartsWith("HTTP/1.1 403", head, StringComparison.Ordinal);
        var proxyStatus = Assert.Single(head.Split("\r\n"), l => l.StartsWith("Proxy-Status:", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("yarp-tunnels; error=destination_ip_prohibited", proxyStatus, StringComparison.Ordinal);
        Assert.Equal(0, echo.Accepted);
    }

    [Fact]
    public async Task Proxy_UpstreamProxyRefusesConnection_502ConnectionRefused()
    {
        using var refusing = FreePort.BindRefusing();
        await using var gateway = await StartProxyAsync($"tcp://127.0.0.1:{((IPEndPoint)refusing.LocalEndPoint!).Port}");

        var (socket, head, _) = await gateway.SendConnectAsync("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            cancellationToken: TestHost.TimeoutToken());
        using var _ = socket;

        Assert.StartsWith("HTTP/1.1 502", head, StringComparison.Ordinal);
        Assert.Contains("Proxy-Status: yarp-tunnels; error=connection_refused", head, StringComparison.Ordinal);
    }
}
