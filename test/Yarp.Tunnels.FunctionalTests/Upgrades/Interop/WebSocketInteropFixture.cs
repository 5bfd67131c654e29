using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Upgrades.Interop;

/// <summary>
/// A gateway on a free port with <c>Protocols: Auto</c> (HTTP/1.1 and h2c) and two WebSocket backends:
/// <c>/ws/echo</c> → a Kestrel echo on internal listener <c>ws-h2</c> over HTTP/2 (RFC 8441 on the backend hop), and
/// <c>/ws/node</c> → an npm <c>ws</c> echo server over HTTP/1.1. Both hosts record how each request arrived, keyed by
/// its <c>id</c> query value.
/// </summary>
public sealed class WebSocketInteropFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, string> _gatewayHops = new();
    private readonly ConcurrentDictionary<string, string> _backendHops = new();
    private WebApplication? _backend;
    private WebApplication? _gateway;
    private NodeEchoServer? _node;

    public int Port { get; } = FreePort.Get();

    internal NodeEchoServer Node => _node ?? throw new InvalidOperationException("Not started.");

    /// <summary>How the request with <c>?id=</c><paramref name="id"/> reached the gateway, e.g. <c>HTTP/2 extended-connect</c>.</summary>
    public string GatewayHop(string id) => _gatewayHops.TryGetValue(id, out var hop) ? hop : "(no request)";

    /// <summary>How the request with <c>?id=</c><paramref name="id"/> reached the Kestrel backend.</summary>
    public string BackendHop(string id) => _backendHops.TryGetValue(id, out var hop) ? hop : "(no request)";

    public async Task InitializeAsync()
    {
        _node = await NodeEchoServer.StartAsync();
        var registry = new InternalListenerRegistry();
        _backend = await TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal("ws-h2", o => o.Protocols = HttpProtocols.Http2));
        }, app =>
        {
            app.Use(Record(_backendHops));
            BackendApp.Map(app);
        });
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:front:Address"] = $"tcp://127.0.0.1:{Port}",
            ["Listeners:front:Protocols"] = "Auto",
            ["Routes:h2:ClusterId"] = "h2",
            ["Routes:h2:Match:Path"] = "/ws/echo",
            ["Routes:node:ClusterId"] = "node",
            ["Routes:node:Match:Path"] = "/ws/node",
            ["Clusters:h2:HttpRequest:Version"] = "2",
            ["Clusters:h2:HttpRequest:VersionPolicy"] = "RequestVersionExact",
            ["Clusters:h2:Destinations:d1:Address"] = "envoy-internal://ws-h2",
            ["Clusters:node:Destinations:d1:Address"] = $"http://127.0.0.1:{_node.Port}",
        });
        _gateway = await TunnelsTestHost.StartAsync(section, registry, app => app.Use(Record(_gatewayHops)), upgrades: true);
    }

    private static Func<HttpContext, RequestDelegate, Task> Record(ConcurrentDictionary<string, string> hops) => (context, next) =>
    {
        if (context.Request.Query["id"].ToString() is { Length: > 0 } id)
        {
            var mechanism = context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } ? "extended-connect"
                : context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } ? "upgrade"
                : "none";
            hops[id] = $"{context.Request.Protocol} {mechanism}";
        }
        return next(context);
    };

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        if (_backend is not null)
        {
            await _backend.DisposeAsync();
        }
        _node?.Dispose();
    }
}
