using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Yarp.Tunnels.Benchmarks.FrontProxy;

/// <summary>
/// The front-proxy benchmark's baseline (this program's <c>plain-yarp</c> mode): the FrontProxy sample's routes on plain
/// YARP 2.3 (<c>AddReverseProxy().LoadFromMemory</c>, <c>MapReverseProxy</c>, no Yarp.Tunnels), in one process with
/// the same greeting service, over loopback TCP:
///   --hops 1: front (h1 on --port, h2c on --port + 1) → service (HTTP/1.1)
///   --hops 2: front → sidecar (plain YARP, h2c) → service (HTTP/1.1), the sample's topology.
///   --hops 1 --upstream IP:PORT: front → that service (HTTP/1.1), e.g. the sample's <c>--role service</c> process, the
///   like-for-like baseline of the sample's <c>--role front</c> forwarding to the same process.
/// Serves until stopped (SIGTERM).
/// </summary>
internal static class PlainYarpProcess
{
    public const string Mode = "plain-yarp";

    public static async Task<int> RunAsync(string[] args)
    {
        var port = (int)E2e.E2eRunner.ReadOption(args, "--port", 0);
        var hops = (int)E2e.E2eRunner.ReadOption(args, "--hops", 2);
        var upstreamIndex = Array.IndexOf(args, "--upstream");
        if (upstreamIndex >= 0)
        {
            if (hops != 1 || upstreamIndex + 1 >= args.Length)
            {
                throw new ArgumentException("--upstream IP:PORT needs --hops 1.");
            }
            await using var direct = await StartProxyAsync($"http://{args[upstreamIndex + 1]}", HttpVersion.Version11, (port, HttpProtocols.Http1), (port + 1, HttpProtocols.Http2));
            Console.WriteLine($"ready: plain YARP, 1 hop to {args[upstreamIndex + 1]}, HTTP/1.1 on {port}, h2c on {port + 1}");
            await direct.WaitForShutdownAsync();
            return 0;
        }
        await using var service = await StartAsync(app => app.MapGet("/service/1", () =>
            "Hello from behind Yarp.Tunnels (service 1)! hostname: service1-1 resolvedhostname: 127.0.0.1\n"), (0, HttpProtocols.Http1));
        var serviceAddress = $"http://127.0.0.1:{E2e.Hosts.Port(service)}";
        await using var sidecar = hops == 2
            ? await StartProxyAsync(serviceAddress, HttpVersion.Version11, (0, HttpProtocols.Http2))
            : null;
        await using var front = await StartProxyAsync(sidecar is null ? serviceAddress : $"http://127.0.0.1:{E2e.Hosts.Port(sidecar)}",
            sidecar is null ? HttpVersion.Version11 : HttpVersion.Version20, (port, HttpProtocols.Http1), (port + 1, HttpProtocols.Http2));
        Console.WriteLine($"ready: plain YARP, {hops} hop(s), HTTP/1.1 on {port}, h2c on {port + 1}");
        await front.WaitForShutdownAsync();
        return 0;
    }

    private static Task<WebApplication> StartProxyAsync(string destination, Version version, params (int Port, HttpProtocols Protocols)[] endpoints) =>
        StartAsync(app => app.MapReverseProxy(), endpoints, services => services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "service1", ClusterId = "service1", Match = new RouteMatch { Path = "/{**catch-all}" } }],
            [new ClusterConfig
            {
                ClusterId = "service1",
                LoadBalancingPolicy = "RoundRobin",
                HttpRequest = new ForwarderRequestConfig { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact },
                Destinations = new Dictionary<string, DestinationConfig> { ["service1-1"] = new() { Address = destination } },
            }]));

    private static async Task<WebApplication> StartAsync(Action<WebApplication> map, (int Port, HttpProtocols Protocols)[] endpoints,
        Action<IServiceCollection>? services = null)
    {
        // The host a YARP user's app has and the sample's front has (WebApplication.CreateBuilder: its logging providers,
        // per-request log scopes, host filtering), with the sample's shipped log levels (no log line per request): the
        // benchmark compares the proxies, not a slim host against a full one.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
            .AddFilter("Yarp.ReverseProxy", LogLevel.Warning)
            .AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            foreach (var (port, protocols) in endpoints)
            {
                k.Listen(IPAddress.Loopback, port, o => o.Protocols = protocols);
            }
        });
        services?.Invoke(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return app;
    }

    private static Task<WebApplication> StartAsync(Action<WebApplication> map, (int Port, HttpProtocols Protocols) endpoint) =>
        StartAsync(map, [endpoint]);
}
