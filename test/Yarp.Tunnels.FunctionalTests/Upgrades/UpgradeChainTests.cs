using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Upgrades;

/// <summary>Per-type chains replace the proxy steps for their upgrade type only; a chain that answers stops the upgrade.</summary>
public sealed class UpgradeChainTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _ran = new();
    private WebApplication _backend = null!;
    private UpgradeGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestHost.StartAsync(b => b.ListenLoopback(), BackendApp.Map);
        _gateway = await UpgradeGateway.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Upgrades:0:UpgradeType"] = "websocket",
            ["Upgrades:0:Chain"] = "ws-chain",
            ["Upgrades:1:UpgradeType"] = "foo",
            ["Upgrades:1:Chain"] = "stop-chain",
            ["Upgrades:2:UpgradeType"] = "bar",
            ["Upgrades:2:Chain"] = "answer-then-next",
            ["Routes:chains:ClusterId"] = "backend",
            ["Routes:chains:Match:Path"] = "/{**rest}",
            ["Clusters:backend:Destinations:d1:Address"] = TestHost.Address(_backend).ToString(),
        }), proxy => proxy
            .AddUpgradeChain("ws-chain", chain => chain.Use((context, next) => Record(context, "ws-chain", next)))
            .AddUpgradeChain("stop-chain", chain => chain.Use(async (HttpContext context, RequestDelegate next) =>
            {
                _ran.Enqueue("stop-chain " + context.Request.Path);
                context.Response.StatusCode = StatusCodes.Status418ImATeapot;
                await context.Response.WriteAsync("stopped by the chain");
            }))
            .AddUpgradeChain("answer-then-next", chain => chain.Use(async (HttpContext context, RequestDelegate next) =>
            {
                _ran.Enqueue("answer-then-next " + context.Request.Path);
                await context.Response.WriteAsync("answered");
                await next(context);
            })),
            steps: proxy =>
            {
                proxy.Use((context, next) => Record(context, "user", next));
                proxy.UseLoadBalancing();
            });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private Task Record(HttpContext context, string step, RequestDelegate next)
    {
        _ran.Enqueue($"{step} {context.Request.Path}");
        return next(context);
    }

    [Fact]
    public async Task WebSocket_TypeWithChain_RunsChainNotUserSteps()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_gateway.Http1Port}/ws"), cts.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes("hi"), WebSocketMessageType.Text, true, cts.Token);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(buffer, cts.Token);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);

        Assert.Equal("HTTP/1.1:hi", Encoding.UTF8.GetString(buffer, 0, received.Count));
        Assert.Equal(["ws-chain /ws"], _ran);
    }

    [Fact]
    public async Task OrdinaryRequest_ChainsRegistered_RunsUserSteps()
    {
        var response = await _gateway.SendRawAsync("GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
        Assert.Contains("hello HTTP/1.1 host=", response, StringComparison.Ordinal);
        Assert.Equal(["user /hello"], _ran);
    }

    [Fact]
    public async Task Upgrade_ChainWritesResponse_UpgradeStopped()
    {
        var curl = await ToolProcess.RunAsync(ToolProcess.Require("curl"),
            ["-s", "-i", "--max-time", "10", "-H", "Connection: Upgrade", "-H", "Upgrade: foo", $"http://127.0.0.1:{_gateway.Http1Port}/x"]);
        var response = Encoding.ASCII.GetString(curl.Stdout);

        Assert.StartsWith("HTTP/1.1 418", response, StringComparison.Ordinal);
        Assert.Contains("Connection: close", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("stopped by the chain", response, StringComparison.Ordinal);
        Assert.Equal(["stop-chain /x"], _ran);
        Assert.Equal(0, _gateway.Stat("http.default.downstream_cx_upgrades_total"));
    }

    [Fact]
    public async Task Upgrade_ChainAnswersThenCallsNext_NotForwardedAndConnectionClosed()
    {
        var response = await _gateway.SendRawAsync("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: bar\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
        Assert.Contains("answered", response, StringComparison.Ordinal);
        Assert.Equal(["answer-then-next /ws"], _ran);
        Assert.Equal(0, _gateway.Stat("http.default.downstream_cx_upgrades_total"));
    }
}
