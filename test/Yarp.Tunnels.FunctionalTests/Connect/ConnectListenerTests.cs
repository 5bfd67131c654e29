using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary>CONNECT on a listener declared in <c>ReverseProxy:Listeners</c> (its hidden endpoint has the shim), and live reload of the Connect block.</summary>
public sealed class ConnectListenerTests
{
    [Fact]
    public async Task AutoListener_Http1AndHttp2Connect_OnOnePort_AndReloadDisablesLive()
    {
        await using var echo = TcpEchoServer.Start();
        var root = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReverseProxy:Listeners:front:Address"] = "tcp://127.0.0.1:0",
            ["ReverseProxy:Listeners:front:Protocols"] = "Auto",
            ["ReverseProxy:Routes:egress:ClusterId"] = "echo",
            ["ReverseProxy:Routes:egress:Match:Hosts:0"] = "egress.test",
            ["ReverseProxy:Routes:egress:Connect:Enabled"] = "true",
            ["ReverseProxy:Clusters:echo:Destinations:d1:Address"] = echo.Address,
        }).Build();
        var section = root.GetSection("ReverseProxy");
        await using var app = await TunnelsTestHost.StartAsync(section, new InternalListenerRegistry(), upgrades: true);
        var port = await WaitForPortAsync(app);

        var socat = await ToolProcess.RunAsync(ToolProcess.Require("socat"),
            ["-t", "5", "-", $"PROXY:127.0.0.1:egress.test:443,proxyport={port}"], Encoding.ASCII.GetBytes("over http/1.1\n"));
        Assert.True(socat.ExitCode == 0, socat.ToString());
        Assert.Equal("over http/1.1\n", socat.StdoutText);

        var python = await ToolProcess.RunAsync("/usr/bin/python3",
            [Path.Combine(RepoPaths.Interop, "python", "h2_connect_client.py"), "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), "egress.test:443", "--streams", "5"]);
        Assert.True(python.ExitCode == 0, python.ToString());
        Assert.Contains("\"echoed\": 5", python.StdoutText, StringComparison.Ordinal);
        await app.WaitForStatAsync("http.front.connect_tunnels_active", 0);
        Assert.Equal(6, app.Stats()["http.front.connect_tunnels_total"]);

        // The route's Connect block switched off in the configuration: refused from the next request on.
        root["ReverseProxy:Routes:egress:Connect:Enabled"] = "false";
        root.Reload();
        var deadline = DateTime.UtcNow + TestHost.Timeout;
        string head;
        do
        {
            using var socket = await SocketIo.ConnectAsync(port, TestHost.TimeoutToken());
            await SocketIo.SendAllAsync(socket, "CONNECT egress.test:443 HTTP/1.1\r\nHost: egress.test:443\r\n\r\n"u8.ToArray(), TestHost.TimeoutToken());
            (head, _) = await ConnectGateway.ReadHeadAsync(socket, TestHost.TimeoutToken());
            Assert.True(DateTime.UtcNow < deadline, $"the reload did not apply: {head}");
            if (!head.StartsWith("HTTP/1.1 403", StringComparison.Ordinal))
            {
                await Task.Delay(50);
            }
        }
        while (!head.StartsWith("HTTP/1.1 403", StringComparison.Ordinal));
        Assert.Contains("Proxy-Status: yarp-tunnels; error=http_request_denied", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InternalDestination_Tunnels_ThenMissingListener503()
    {
        await using var echo = TcpEchoServer.Start();
        var registry = new InternalListenerRegistry();
        // Another host in the process binds the internal listener 'ghost' (a TCP proxy to the echo server).
        var ghostHost = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:ghost:Address"] = "envoy-internal://ghost",
            ["Listeners:ghost:TcpProxy:ClusterId"] = "echo",
            ["Clusters:echo:Destinations:d1:Address"] = echo.Address,
        }), registry);
        await ghostHost.WaitForListenerAsync("ghost");
        await using var gateway = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:front:Address"] = "tcp://127.0.0.1:0",
            ["Routes:inner:ClusterId"] = "inner",
            ["Routes:inner:Match:Hosts:0"] = "host.com",
            ["Routes:inner:Connect:Enabled"] = "true",
            ["Clusters:inner:Destinations:d1:Address"] = "envoy-internal://ghost",
        }), registry, upgrades: true);
        var port = await WaitForPortAsync(gateway);

        var through = await ToolProcess.RunAsync(ToolProcess.Require("socat"),
            ["-t", "5", "-", $"PROXY:127.0.0.1:host.com:443,proxyport={port}"], Encoding.ASCII.GetBytes("inside\n"));
        Assert.True(through.ExitCode == 0, through.ToString());
        Assert.Equal("inside\n", through.StdoutText);

        await ghostHost.StopAsync();
        await ghostHost.DisposeAsync();
        using var socket = await SocketIo.ConnectAsync(port, TestHost.TimeoutToken());
        await SocketIo.SendAllAsync(socket, "CONNECT host.com:443 HTTP/1.1\r\nHost: host.com:443\r\n\r\n"u8.ToArray(), TestHost.TimeoutToken());
        var (head, _) = await ConnectGateway.ReadHeadAsync(socket, TestHost.TimeoutToken());
        Assert.StartsWith("HTTP/1.1 503", head, StringComparison.Ordinal);
        Assert.Contains("Proxy-Status: yarp-tunnels; error=destination_unavailable", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdleTunnel_ClosedAfterRouteUpgradeIdleTimeout()
    {
        await using var echo = TcpEchoServer.Start();
        await using var gateway = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:front:Address"] = "tcp://127.0.0.1:0",
            ["Routes:idle:ClusterId"] = "echo",
            ["Routes:idle:Match:Hosts:0"] = "idle.test",
            ["Routes:idle:Connect:Enabled"] = "true",
            ["Routes:idle:UpgradeIdleTimeout"] = "00:00:01",
            ["Clusters:echo:Destinations:d1:Address"] = echo.Address,
        }), new InternalListenerRegistry(), upgrades: true);
        var port = await WaitForPortAsync(gateway);
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        using var socket = await SocketIo.ConnectAsync(port, cts.Token);
        await SocketIo.SendAllAsync(socket, "CONNECT idle.test:443 HTTP/1.1\r\nHost: idle.test:443\r\n\r\nping"u8.ToArray(), cts.Token);
        var (head, extra) = await ConnectGateway.ReadHeadAsync(socket, cts.Token);
        Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);

        var echoed = extra.Concat(await SocketIo.ReadExactlyAsync(socket, 4 - extra.Length, cts.Token)).ToArray();
        Assert.Equal("ping", Encoding.ASCII.GetString(echoed));

        // Nothing more is sent: the tunnel is reset once idle, which ends the client's read (end of stream or a reset).
        try
        {
            Assert.Empty(await SocketIo.ReadToEndAsync(socket, cts.Token));
        }
        catch (SocketException)
        {
        }
        Assert.False(cts.IsCancellationRequested);
        await gateway.WaitForStatAsync("http.front.connect_tunnels_active", 0);
        await gateway.WaitForStatAsync("http.front.downstream_cx_upgrades_active", 0);
    }

    private static async Task<int> WaitForPortAsync(Microsoft.AspNetCore.Builder.WebApplication app)
    {
        await app.WaitForListenerAsync("front");
        return app.ListenerPort("front");
    }
}
