using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Connect;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary>The inner HTTP connection of a decapsulated tunnel, opened directly (the CONNECT step is tested with curl elsewhere).</summary>
public class DecapsulationEndpointTests
{
    private static readonly IPAddress TunnelClient = IPAddress.Parse("10.1.2.3");

    /// <param name="listeners">Declare a listener (the hidden endpoints are bound at start), or only a Kestrel endpoint of the app's.</param>
    private static async Task<(WebApplication Backend, WebApplication Gateway)> StartAsync(bool listeners = true)
    {
        var backend = await TestHost.StartAsync(b => b.ListenLoopback(), app =>
            app.MapGet("/{**path}", (HttpContext c) => $"{c.Request.Headers["x-which"]} {c.Request.Protocol} xff={c.Request.Headers["X-Forwarded-For"]}"));
        var address = TestHost.Address(backend).ToString();
        var settings = new Dictionary<string, string?>
        {
            ["Routes:inner:ClusterId"] = "backend",
            ["Routes:inner:Match:Path"] = "/{**rest}",
            ["Routes:inner:Metadata:Connect.DecapsulatedBy"] = "other, tunnel",
            ["Routes:inner:Transforms:0:RequestHeader"] = "x-which",
            ["Routes:inner:Transforms:0:Set"] = "inner",
            ["Routes:outer:ClusterId"] = "backend",
            ["Routes:outer:Match:Path"] = "/{**rest}",
            ["Routes:outer:Transforms:0:RequestHeader"] = "x-which",
            ["Routes:outer:Transforms:0:Set"] = "outer",
            ["Clusters:backend:Destinations:d1:Address"] = address,
        };
        if (listeners)
        {
            settings["Listeners:front:Address"] = "tcp://127.0.0.1:0";
        }
        var section = TunnelsTestHost.Section(settings);
        var gateway = await TunnelsTestHost.StartAsync(section, new InternalListenerRegistry(),
            services: listeners ? null : s => s.Configure<KestrelServerOptions>(k => k.Listen(IPAddress.Loopback, 0)));
        if (listeners)
        {
            await gateway.WaitForListenerAsync("front");
        }
        return (backend, gateway);
    }

    private static HttpClient ClientThroughTunnel(WebApplication gateway, string routeId, Version version)
    {
        var endpoint = gateway.Services.GetRequiredService<DecapsulationEndpoint>();
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var context = new DefaultHttpContext();
                context.Connection.RemoteIpAddress = TunnelClient;
                context.Connection.RemotePort = 40000;
                context.Features.Set<IHttpListenerFeature>(new HttpListenerFeature("front", "front"));
                return await endpoint.OpenAsync(context, routeId, "host.com:80", cancellationToken);
            },
        };
        return new HttpClient(handler)
        {
            BaseAddress = new Uri("http://host.com/"),
            Timeout = TestHost.Timeout,
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task OpenAsync_RequestInsideTunnel_ServedByMarkedRouteWithClientAddress(string version)
    {
        var (backend, gateway) = await StartAsync();
        await using var _ = backend;
        await using var __ = gateway;
        using var client = ClientThroughTunnel(gateway, "tunnel", Version.Parse(version));

        using var response = await client.GetAsync("/x");

        Assert.Equal(Version.Parse(version), response.Version);
        Assert.Equal($"inner HTTP/1.1 xff={TunnelClient}", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, gateway.Stats()["listener.connect_decapsulate.downstream_cx_total"]);
    }

    [Fact]
    public async Task OpenAsync_HostWithoutListeners_FirstTunnelBindsHiddenEndpoints()
    {
        var (backend, gateway) = await StartAsync(listeners: false);
        await using var _ = backend;
        await using var __ = gateway;
        using var client = ClientThroughTunnel(gateway, "tunnel", HttpVersion.Version20);

        using var response = await client.GetAsync("/x");

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal($"inner HTTP/1.1 xff={TunnelClient}", await response.Content.ReadAsStringAsync());
        // The app's own endpoint still serves (Kestrel binds code endpoints beside configured ones).
        using var outside = new HttpClient { BaseAddress = TestHost.Address(gateway), Timeout = TestHost.Timeout };
        Assert.Equal("outer HTTP/1.1 xff=127.0.0.1", await outside.GetStringAsync("/x"));
    }

    [Fact]
    public async Task OpenAsync_RequestOutsideTunnel_NeverServedByMarkedRoute()
    {
        var (backend, gateway) = await StartAsync();
        await using var _ = backend;
        await using var __ = gateway;
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.ListenerPort("front")}/"), Timeout = TestHost.Timeout };

        Assert.Equal("outer HTTP/1.1 xff=127.0.0.1", await client.GetStringAsync("/x"));
    }

    [Fact]
    public async Task OpenAsync_TunnelOfUnnamedRoute_NoRouteMatches404()
    {
        var (backend, gateway) = await StartAsync();
        await using var _ = backend;
        await using var __ = gateway;
        using var client = ClientThroughTunnel(gateway, "elsewhere", HttpVersion.Version11);

        using var response = await client.GetAsync("/x");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
