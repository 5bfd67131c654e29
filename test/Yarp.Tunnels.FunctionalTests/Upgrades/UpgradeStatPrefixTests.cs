using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Upgrades;

/// <summary>Upgrades on a listener declared in ReverseProxy:Listeners count under its StatPrefix; a host that does not map the policy is warned.</summary>
public sealed class UpgradeStatPrefixTests
{
    [Fact]
    public async Task AutoListener_WebSocketOverH2cAndRefusal_CountedUnderListenerStatPrefix()
    {
        await using var backend = await TestHost.StartAsync(b => b.ListenLoopback(), BackendApp.Map);
        var port = FreePort.Get();
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:web:Address"] = $"tcp://127.0.0.1:{port}",
            ["Listeners:web:Protocols"] = "Auto",
            ["Listeners:web:StatPrefix"] = "ingress_http",
            ["Routes:ws:ClusterId"] = "backend",
            ["Routes:ws:Match:Path"] = "/{**rest}",
            ["Clusters:backend:Destinations:d1:Address"] = TestHost.Address(backend).ToString(),
        });
        await using var gateway = await TestHost.StartAsync(
            b => b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, new InternalListenerRegistry()),
            app => app.MapTunnelsReverseProxy());
        using var cts = new CancellationTokenSource(TestHost.Timeout);

        using (var socket = new ClientWebSocket())
        {
            socket.Options.HttpVersion = HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws"), invoker, cts.Token);
            await socket.SendAsync("hi"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
            var buffer = new byte[64];
            var received = await socket.ReceiveAsync(buffer, cts.Token);
            Assert.Equal("HTTP/1.1:hi", Encoding.UTF8.GetString(buffer, 0, received.Count));
            Assert.Equal(1, gateway.Stats()["http.ingress_http.downstream_cx_upgrades_active"]);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
        }
        using var client = new HttpClient { Timeout = TestHost.Timeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/x");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.ParseAdd("foo");
        using var refused = await client.SendAsync(request, cts.Token);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        await gateway.WaitForStatAsync("http.ingress_http.downstream_cx_upgrades_active", 0);
        Assert.Equal(1, gateway.Stats()["http.ingress_http.downstream_cx_upgrades_total"]);
        Assert.Equal(1, gateway.Stats()["http.ingress_http.downstream_rq_ws_on_non_ws_route"]);
        Assert.DoesNotContain(gateway.Stats().Keys, k => k.StartsWith("http.default.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task Startup_UpgradeSettingsWithoutMapTunnelsReverseProxy_Warns(bool mapTunnels, bool warned)
    {
        var logs = new CapturingLoggerProvider();
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Upgrades:0:UpgradeType"] = "foo",
            ["Routes:r:ClusterId"] = "c",
            ["Routes:r:Match:Path"] = "/{**rest}",
            ["Clusters:c:Destinations:d:Address"] = "http://127.0.0.1:1",
        });

        await using var host = await TestHost.StartAsync(b =>
        {
            b.Logging.AddProvider(logs);
            b.ListenLoopback();
            b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, new InternalListenerRegistry());
        }, app =>
        {
            if (mapTunnels)
            {
                app.MapTunnelsReverseProxy();
            }
            else
            {
                app.MapReverseProxy();
            }
        });

        // The policy loads while the host starts, so its warning (if any) is logged once StartAsync returned.
        Assert.Equal(warned, logs.EventIds.Contains(103));
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider, ILogger
    {
        public ConcurrentBag<int> EventIds { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            EventIds.Add(eventId.Id);

        public void Dispose()
        {
        }
    }
}
