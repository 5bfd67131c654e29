using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Benchmarks.E2e;

/// <summary>The in-process hosts of the end-to-end run.</summary>
internal static class Hosts
{
    public const string BackendBody = "Hello from the backend";

    /// <summary>The two TCP chains, configured like an app would in <c>ReverseProxy:Listeners</c>.</summary>
    public sealed record TcpChains(WebApplication Host, int InternalFrontPort, int LoopbackFrontPort);

    public static async Task<TcpChains> StartTcpChainsAsync(InternalListenerRegistry registry, int backendPort)
    {
        var (internalFront, loopbackFront, loopbackMid) = (FreePort(), FreePort(), FreePort());
        var settings = new Dictionary<string, string?>
        {
            // internal: tcp front -> envoy-internal://hop (TCP proxy) -> backend
            ["ReverseProxy:Listeners:internal_front:Address"] = $"tcp://127.0.0.1:{internalFront}",
            ["ReverseProxy:Listeners:internal_front:TcpProxy:ClusterId"] = "to_hop",
            ["ReverseProxy:Listeners:hop:Address"] = "envoy-internal://hop",
            ["ReverseProxy:Listeners:hop:TcpProxy:ClusterId"] = "backend",
            ["ReverseProxy:Clusters:to_hop:Destinations:hop:Address"] = "envoy-internal://hop",
            // loopback: tcp front -> tcp://127.0.0.1:mid (TCP proxy) -> backend
            ["ReverseProxy:Listeners:loopback_front:Address"] = $"tcp://127.0.0.1:{loopbackFront}",
            ["ReverseProxy:Listeners:loopback_front:TcpProxy:ClusterId"] = "to_mid",
            ["ReverseProxy:Listeners:loopback_mid:Address"] = $"tcp://127.0.0.1:{loopbackMid}",
            ["ReverseProxy:Listeners:loopback_mid:TcpProxy:ClusterId"] = "backend",
            ["ReverseProxy:Clusters:to_mid:Destinations:mid:Address"] = $"tcp://127.0.0.1:{loopbackMid}",
            ["ReverseProxy:Clusters:backend:Destinations:backend:Address"] = $"tcp://127.0.0.1:{backendPort}",
        };
        return new TcpChains(await StartTunnelsAsync(registry, settings), internalFront, loopbackFront);
    }

    /// <summary>A host configured from <c>ReverseProxy:*</c> keys, as an app would be.</summary>
    public static Task<WebApplication> StartTunnelsAsync(InternalListenerRegistry registry, IReadOnlyDictionary<string, string?> settings) =>
        StartAsync(builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            var section = builder.Configuration.GetSection("ReverseProxy");
            builder.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, registry);
            // An HTTP endpoint of our own keeps Kestrel off its default localhost:5000.
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        }, app => app.MapReverseProxy());

    /// <summary>The port a socket TCP proxy listener of <paramref name="host"/> bound.</summary>
    public static int TcpProxyPort(WebApplication host, string listener) =>
        host.Services.GetRequiredService<IListenerStateProvider>().GetListeners()
            .First(l => l.Name == listener).BoundEndPoints.OfType<IPEndPoint>().First().Port;

    /// <summary>A backend answering <c>GET /</c> on internal listener <paramref name="internalName"/> only, or on a loopback socket.</summary>
    public static Task<WebApplication> StartHttpBackendAsync(InternalListenerRegistry registry, string? internalName) =>
        StartAsync(builder =>
        {
            if (internalName is not null)
            {
                builder.WebHost.UseInternalListeners(registry);
                builder.WebHost.ConfigureKestrel(k => k.ListenInternal(internalName, o => o.Protocols = HttpProtocols.Http1));
            }
            else
            {
                builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1));
            }
        }, app => app.MapGet("/", () => BackendBody));

    /// <summary>A YARP front on a loopback socket whose only cluster forwards to <paramref name="destination"/> over HTTP/1.1.</summary>
    public static Task<WebApplication> StartHttpFrontAsync(InternalListenerRegistry registry, string destination) =>
        StartAsync(builder =>
        {
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1));
            RouteConfig[] routes = [new() { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "/{**catch-all}" } }];
            ClusterConfig[] clusters =
            [
                new()
                {
                    ClusterId = "backend",
                    Destinations = new Dictionary<string, DestinationConfig> { ["d1"] = new() { Address = destination } },
                    HttpRequest = new ForwarderRequestConfig { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact },
                },
            ];
            // Both fronts use the same setup, so the transport is the only difference.
            builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters).AddInternalListenerDestinations(registry);
        }, app => app.MapReverseProxy());

    /// <summary>The loopback port a started host listens on.</summary>
    public static int Port(WebApplication app) => new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
        .Addresses.First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))).Port;

    internal static async Task<WebApplication> StartAsync(Action<WebApplicationBuilder> configure, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        configure(builder);
        var app = builder.Build();
        map(app);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await app.StartAsync(timeout.Token);
        return app;
    }

    internal static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
