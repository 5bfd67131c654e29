using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Upgrades;

/// <summary>Runs alone: 2,000 WebSockets take both cores for seconds and would starve the timing of parallel tests.</summary>
[Collection(NonParallelCollection.Name)]
public class WebSocketConcurrencyTests
{
    private const int Sockets = 2000;
    private const string UpgradesActive = "http.front.downstream_cx_upgrades_active";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private enum Ending
    {
        ClientClose,
        ClientAbort,
        ServerClose,
        ServerAbort,
    }

    /// <summary>
    /// 2,000 WebSockets open at once through the gateway (HTTP/1.1 and h2c clients × HTTP/1.1 and HTTP/2 backends on
    /// internal listeners), then each ended at random by a close handshake or an abort from either end: every gauge of
    /// the gateway (<c>downstream_cx_upgrades_active</c>, in-flight requests, upgraded and open connections) and of the
    /// backend (in-flight requests, internal listener connections) returns to 0.
    /// </summary>
    [Fact]
    public async Task Forward_2000ConcurrentWebSocketsEndedAtRandomFromBothEnds_AllGaugesBackToZero()
    {
        var registry = new InternalListenerRegistry();
        await using var backend = await TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k =>
            {
                k.ListenInternal("ws-h1", o => o.Protocols = HttpProtocols.Http1);
                k.ListenInternal("ws-h2", o => o.Protocols = HttpProtocols.Http2);
            });
        }, BackendApp.Map);
        var port = FreePort.Get();
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:front:Address"] = $"tcp://127.0.0.1:{port}",
            ["Listeners:front:Protocols"] = "Auto",
            ["Routes:h1:ClusterId"] = "h1",
            ["Routes:h1:Match:Path"] = "/h1/ws/echo",
            ["Routes:h1:Transforms:0:PathRemovePrefix"] = "/h1",
            ["Routes:h2:ClusterId"] = "h2",
            ["Routes:h2:Match:Path"] = "/h2/ws/echo",
            ["Routes:h2:Transforms:0:PathRemovePrefix"] = "/h2",
            ["Clusters:h1:Destinations:d1:Address"] = "envoy-internal://ws-h1",
            ["Clusters:h2:HttpRequest:Version"] = "2",
            ["Clusters:h2:HttpRequest:VersionPolicy"] = "RequestVersionExact",
            ["Clusters:h2:Destinations:d1:Address"] = "envoy-internal://ws-h2",
        });
        await using var gateway = await TunnelsTestHost.StartAsync(section, registry, upgrades: true);
        using var gatewayGauges = new HostGauges(gateway.Services);
        using var backendGauges = new HostGauges(backend.Services);
        using var invoker = WebSocketClients.CreateInvoker();
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var endings = Enumerable.Range(0, Sockets).Select(_ => (Ending)random.Next(4)).ToArray();
        using var timeout = new CancellationTokenSource(Bound);
        var context = $"seed {seed}";

        // Open all of them (64 handshakes in flight at a time), each proven by one echo, and keep them open.
        var sockets = new ClientWebSocket[Sockets];
        using (var handshakes = new SemaphoreSlim(64))
        {
            await Task.WhenAll(Enumerable.Range(0, Sockets).Select(async i =>
            {
                await handshakes.WaitAsync(timeout.Token);
                try
                {
                    var uri = new Uri($"ws://127.0.0.1:{port}/{(i % 4 < 2 ? "h1" : "h2")}/ws/echo");
                    sockets[i] = await WebSocketClients.ConnectAsync(uri, i % 2 == 0 ? HttpVersion.Version11 : HttpVersion.Version20, invoker, timeout.Token);
                    await EchoAsync(sockets[i], $"socket {i}", timeout.Token);
                }
                finally
                {
                    handshakes.Release();
                }
            }));
        }
        try
        {
            Assert.True(backendGauges[HostGauges.ActiveRequests] == Sockets, $"{context}: {backendGauges[HostGauges.ActiveRequests]} WebSockets open at the backend");
            Assert.True(gatewayGauges[HostGauges.ActiveRequests] == Sockets, $"{context}: {gatewayGauges[HostGauges.ActiveRequests]} WebSockets open at the gateway");
            await gateway.WaitForStatAsync(UpgradesActive, Sockets, Bound);

            await Task.WhenAll(Enumerable.Range(0, Sockets).Select(i => EndAsync(sockets[i], endings[i], timeout.Token)));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket?.Dispose();
            }
        }

        await gateway.WaitForStatAsync(UpgradesActive, 0, Bound);
        await gateway.WaitForStatAsync("http.front.downstream_cx_upgrades_total", Sockets, Bound);
        await gatewayGauges.WaitForAsync(HostGauges.ActiveRequests, 0, Bound);
        await gatewayGauges.WaitForAsync(HostGauges.ActiveUpgradedConnections, 0, Bound);
        await backendGauges.WaitForAsync(HostGauges.ActiveRequests, 0, Bound);
        await backendGauges.WaitForAsync(HostGauges.ActiveUpgradedConnections, 0, Bound);
        // Each HTTP/1.1 WebSocket had its own internal connection to the backend: all of them are gone.
        await backend.WaitForStatAsync("listener.envoy_internal_ws-h1.downstream_cx_active", 0, Bound);
        invoker.Dispose();
        await gatewayGauges.WaitForAsync(HostGauges.ActiveConnections, 0, Bound);
    }

    private static async Task EchoAsync(WebSocket socket, string text, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        await socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var buffer = new byte[256];
        var result = await socket.ReceiveAsync(buffer, cancellationToken);
        Assert.Equal(text, Encoding.UTF8.GetString(buffer, 0, result.Count));
    }

    private static async Task EndAsync(ClientWebSocket socket, Ending ending, CancellationToken cancellationToken)
    {
        var buffer = new byte[256];
        switch (ending)
        {
            case Ending.ClientClose:
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "client close", cancellationToken);
                Assert.Equal(WebSocketState.Closed, socket.State);
                break;
            case Ending.ClientAbort:
                socket.Abort();
                break;
            case Ending.ServerClose:
                await socket.SendAsync("!close"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                var close = await socket.ReceiveAsync(buffer, cancellationToken);
                Assert.Equal(WebSocketMessageType.Close, close.MessageType);
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                break;
            case Ending.ServerAbort:
                await socket.SendAsync("!abort"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                await Assert.ThrowsAnyAsync<Exception>(async () => await socket.ReceiveAsync(buffer, cancellationToken));
                break;
        }
    }
}
