using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.FunctionalTests.Upgrades;

/// <summary>Established upgrades (WebSockets forwarded by YARP, H1 and H2 downstream): counted, traced, timed out when idle.</summary>
public sealed class UpgradeTrackingTests : IAsyncLifetime
{
    private const string Total = "http.default.downstream_cx_upgrades_total";
    private const string Active = "http.default.downstream_cx_upgrades_active";

    private WebApplication _backend = null!;
    private UpgradeForwarderBackend _fooBackend = null!;
    private UpgradeGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestHost.StartAsync(b => b.ListenLoopback(), BackendApp.Map);
        _fooBackend = await UpgradeForwarderBackend.StartAsync(HttpProtocols.Http1);
        _gateway = await UpgradeGateway.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Routes:track-ws:ClusterId"] = "backend",
            ["Routes:track-ws:Match:Path"] = "/ws",
            ["Routes:track-idle:ClusterId"] = "backend",
            ["Routes:track-idle:Match:Path"] = "/idle/ws",
            ["Routes:track-idle:UpgradeIdleTimeout"] = "00:00:01",
            ["Routes:track-idle:Transforms:0:PathRemovePrefix"] = "/idle",
            ["Routes:track-foo:ClusterId"] = "foo",
            ["Routes:track-foo:Match:Path"] = "/foo/{**rest}",
            ["Routes:track-foo:Upgrades:0:UpgradeType"] = "foo",
            ["Clusters:backend:Destinations:d1:Address"] = TestHost.Address(_backend).ToString(),
            ["Clusters:foo:Destinations:d1:Address"] = _fooBackend.Address,
            ["Clusters:foo:HttpRequest:Version"] = "1.1",
        }));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _fooBackend.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task CustomToken_RouteEnablesIt_ForwardedCountedTaggedAndGaugeBackToZero()
    {
        using var activities = new UpgradeActivities("track-foo");
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _gateway.Http1Port, cts.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /foo/x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n"), cts.Token);

        var head = await ReadUntilAsync(socket, "GET /foo/x HTTP/1.1 foo\n", cts.Token); // the backend's greeting, after the 101
        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        await _gateway.App.WaitForStatAsync(Active, 1);
        await socket.SendAsync("quit"u8.ToArray(), cts.Token);
        Assert.Equal("quitbye\n", await ReadUntilAsync(socket, null, cts.Token));

        await _gateway.App.WaitForStatAsync(Active, 0);
        var series = _gateway.App.Services.GetRequiredService<TunnelStatistics>().Snapshot()
            .Single(s => s.FlatName == Total && s.Tags.Any(t => t.Key == StatNames.UpgradeTypeTag && t.Value == "foo"));
        Assert.Equal(1, series.Value);
        Assert.Equal("Http1Upgrade", (await activities.StoppedAsync(cts.Token)).GetTagItem("yarp.tunnels.upgrade.kind"));
    }

    /// <summary>Reads until <paramref name="end"/> was received (or, when null, until the peer closes).</summary>
    private static async Task<string> ReadUntilAsync(Socket socket, string? end, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (end is null || !text.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, cancellationToken);
            if (read == 0)
            {
                Assert.True(end is null, $"the connection closed before '{end}'; got: {text}");
                break;
            }
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return text.ToString();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WebSocket_NoUpgradeList_CountedTaggedTracedAndGaugeBackToZero(bool http2)
    {
        using var activities = new UpgradeActivities("track-ws");
        var totalBefore = _gateway.Stat(Total);
        using var cts = new CancellationTokenSource(TestHost.Timeout);

        using (var socket = await ConnectAsync("/ws", http2, cts.Token))
        {
            Assert.Equal("HTTP/1.1:hi", await EchoAsync(socket, "hi", cts.Token)); // the gateway → backend hop is HTTP/1.1
            Assert.Equal(totalBefore + 1, _gateway.Stat(Total));
            Assert.Equal(1, _gateway.Stat(Active));
            var series = _gateway.App.Services.GetService<TunnelStatistics>()!.Snapshot()
                .Single(s => s.FlatName == Total && s.Tags.Any(t => t.Key == StatNames.UpgradeTypeTag));
            Assert.Equal("websocket", series.Tags.Single(t => t.Key == StatNames.UpgradeTypeTag).Value);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
        }

        await _gateway.App.WaitForStatAsync(Active, 0);
        var activity = await activities.StoppedAsync(cts.Token);
        Assert.Equal("websocket", activity.GetTagItem("yarp.tunnels.upgrade.type"));
        Assert.Equal(http2 ? "ExtendedConnect" : "Http1Upgrade", activity.GetTagItem("yarp.tunnels.upgrade.kind"));
        Assert.Equal("upgrade websocket", activity.DisplayName);
    }

    [Fact]
    public async Task WebSocket_RouteIdleTimeout_ClosedAfterSilenceAndCounted()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        using var socket = await ConnectAsync("/idle/ws", http2: false, cts.Token);

        // Nothing is sent: the gateway's idle timer resets the connection, which ends the client's receive. (That traffic
        // postpones the timer is proven with a fake clock in IdleTimerTests; here a real clock must not race a message.)
        await Assert.ThrowsAnyAsync<WebSocketException>(() => socket.ReceiveAsync(new byte[16], cts.Token));

        await _gateway.App.WaitForStatAsync("http.default.downstream_rq_idle_timeout", 1);
        await _gateway.App.WaitForStatAsync(Active, 0);
    }

    private async Task<ClientWebSocket> ConnectAsync(string path, bool http2, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        if (http2)
        {
            socket.Options.HttpVersion = HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        var port = http2 ? _gateway.Http2Port : _gateway.Http1Port;
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}{path}"), invoker, cancellationToken);
        return socket;
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string text, CancellationToken cancellationToken)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken);
        var buffer = new byte[256];
        var result = await socket.ReceiveAsync(buffer, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    /// <summary>Collects the stopped upgrade activities of one route from the <c>Yarp.Tunnels</c> source.</summary>
    private sealed class UpgradeActivities : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<Activity> _stopped = new();
        private readonly SemaphoreSlim _signal = new(0);

        public UpgradeActivities(string routeId)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == TunnelsActivitySource.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    if (activity.GetTagItem("yarp.tunnels.route_id") as string == routeId)
                    {
                        _stopped.Enqueue(activity);
                        _signal.Release();
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public async Task<Activity> StoppedAsync(CancellationToken cancellationToken)
        {
            await _signal.WaitAsync(cancellationToken);
            Assert.True(_stopped.TryDequeue(out var activity));
            return activity;
        }

        public void Dispose()
        {
            _listener.Dispose();
            _signal.Dispose();
        }
    }
}
