using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.Tunnels.Destinations;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.FunctionalTests.Destinations;

public class InternalDestinationMetadataTests
{
    private const string DestinationHeader = "X-Proxied-Destination";

    private sealed record Info(string? Listener, string? EndpointId, Dictionary<string, string>? Metadata, Dictionary<string, string>? State)
    {
        /// <summary>The destination the front chose for the request (from <see cref="DestinationHeader"/>), if it says.</summary>
        public string? ProxiedDestination { get; set; }
    }

    private static readonly JsonSerializerOptions _json = new(JsonSerializerDefaults.Web);

    private static async Task<Info> GetInfoAsync(HttpClient client, string path = "/info")
    {
        using var response = await client.GetAsync(path, TestHost.TimeoutToken());
        var body = await response.Content.ReadAsStringAsync(TestHost.TimeoutToken());
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        var info = JsonSerializer.Deserialize<Info>(body, _json)!;
        info.ProxiedDestination = response.Headers.TryGetValues(DestinationHeader, out var values) ? values.Single() : null;
        return info;
    }

    private static Task<WebApplication> StartFrontAsync(InternalListenerRegistry registry, ClusterConfig cluster) =>
        TestHost.StartAsync(b =>
        {
            b.ListenLoopback();
            b.Services.AddReverseProxy()
                .LoadFromMemory([ProxyConfigs.CatchAll(cluster.ClusterId)], [cluster])
                .AddTransforms(context => context.AddResponseTransform(transform =>
                {
                    // Tells the test which destination the load balancer picked, to compare with the connection that carried the request.
                    if (transform.HttpContext.Features.Get<IReverseProxyFeature>()?.ProxiedDestination is { } destination)
                    {
                        transform.HttpContext.Response.Headers[DestinationHeader] = destination.DestinationId;
                    }
                    return default;
                }))
                .AddInternalListenerDestinations(registry);
        }, app => app.MapReverseProxy());

    private static Task<WebApplication> StartBackendAsync(InternalListenerRegistry registry, string name) =>
        TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal(name));
        }, BackendApp.Map);

    [Fact]
    public async Task Forward_TwoEndpointsOnOneListener_PassesEachDestinationsOwnMetadata()
    {
        var registry = new InternalListenerRegistry();
        var cluster = ProxyConfigs.Cluster("tenants", new Dictionary<string, DestinationConfig>
        {
            ["d1"] = new()
            {
                Address = "envoy-internal://shared",
                Metadata = new Dictionary<string, string> { ["tenant"] = "alpha", [InternalUpstreamMetadata.EndpointId] = "ep-alpha" },
            },
            ["d2"] = new()
            {
                Address = "envoy-internal://shared",
                Metadata = new Dictionary<string, string> { ["tenant"] = "beta", [InternalUpstreamMetadata.EndpointId] = "ep-beta" },
            },
        }, metadata: new Dictionary<string, string> { [InternalUpstreamMetadata.PassthroughMetadata] = "host:tenant,host:missing" })
            with { LoadBalancingPolicy = LoadBalancingPolicies.RoundRobin };
        await using var backend = await StartBackendAsync(registry, "shared");
        await using var front = await StartFrontAsync(registry, cluster);
        using var client = new HttpClient { BaseAddress = TestHost.Address(front), Timeout = TestHost.Timeout };

        var infos = new List<Info>();
        for (var i = 0; i < 20; i++)
        {
            infos.Add(await GetInfoAsync(client));
        }
        infos.AddRange(await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => GetInfoAsync(client))).WaitAsync(TestHost.Timeout));

        var expectedTenant = new Dictionary<string, string> { ["ep-alpha"] = "alpha", ["ep-beta"] = "beta" };
        var expectedEndpoint = new Dictionary<string, string> { ["d1"] = "ep-alpha", ["d2"] = "ep-beta" };
        Assert.All(infos, info =>
        {
            Assert.Equal("shared", info.Listener);
            Assert.NotNull(info.EndpointId);
            Assert.True(expectedTenant.ContainsKey(info.EndpointId), $"unexpected endpoint id '{info.EndpointId}'");
            // The request the balancer sent to d1 arrived on d1's connection, never on d2's.
            Assert.NotNull(info.ProxiedDestination);
            Assert.Equal(expectedEndpoint[info.ProxiedDestination], info.EndpointId);
            // Only the listed key that exists is passed: not the missing one, not the endpoint id itself.
            Assert.Equal(new Dictionary<string, string> { ["tenant"] = expectedTenant[info.EndpointId] }, info.Metadata);
        });
        var seen = infos.GroupBy(i => i.EndpointId!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(["ep-alpha", "ep-beta"], seen.Keys.Order(StringComparer.Ordinal));
        // Round robin over 20 sequential requests alternates.
        Assert.Equal(10, infos.Take(20).Count(i => i.EndpointId == "ep-alpha"));

        var stats = front.Services.GetRequiredService<TunnelMetrics>().Snapshot();
        Assert.True(stats.GetValueOrDefault("cluster.tenants.no_metadata") > 0, string.Join(", ", stats));
    }

    private static DestinationHealth ActiveHealth(WebApplication front, string clusterId, string destinationId)
    {
        var lookup = front.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(lookup.TryGetCluster(clusterId, out var cluster));
        return cluster.Destinations[destinationId].Health.Active;
    }

    private static async Task WaitForHealthAsync(WebApplication front, string clusterId, string destinationId, DestinationHealth expected, TimeSpan timeout)
    {
        var started = Stopwatch.StartNew();
        DestinationHealth current;
        while ((current = ActiveHealth(front, clusterId, destinationId)) != expected)
        {
            Assert.True(started.Elapsed < timeout, $"destination '{destinationId}' still {current} after {started.Elapsed}, expected {expected}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task ActiveHealthProbe_InternalDestination_HealthyThenUnhealthyWhenListenerStops()
    {
        var registry = new InternalListenerRegistry();
        var cluster = ProxyConfigs.Cluster("probed", new Dictionary<string, DestinationConfig>
        {
            ["d1"] = new() { Address = "envoy-internal://probe" },
        }, health: new HealthCheckConfig
        {
            Active = new ActiveHealthCheckConfig
            {
                Enabled = true,
                Interval = TimeSpan.FromSeconds(1),
                Timeout = TimeSpan.FromSeconds(1),
                Path = "/health",
                Policy = "ConsecutiveFailures",
            },
        });
        var probes = 0;
        await using var backend = await TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal("probe"));
        }, app =>
        {
            app.Use((context, next) =>
            {
                if (context.Request.Path == "/health")
                {
                    Interlocked.Increment(ref probes);
                }
                return next(context);
            });
            BackendApp.Map(app);
        });
        await using var front = await StartFrontAsync(registry, cluster);

        await WaitForHealthAsync(front, "probed", "d1", DestinationHealth.Healthy, TimeSpan.FromSeconds(20));
        Assert.True(Volatile.Read(ref probes) > 0, "the destination became healthy without a probe reaching the backend");

        await backend.StopAsync(TestHost.TimeoutToken());
        Assert.False(registry.Contains("probe"));

        await WaitForHealthAsync(front, "probed", "d1", DestinationHealth.Unhealthy, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Forward_TwoInternalHops_OnceStateStopsAtFirstHopTransitiveReachesSecond()
    {
        var registry = new InternalListenerRegistry();
        await using var hop2 = await StartBackendAsync(registry, "hop2");
        await using var hop1 = await TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal("hop1"));
            b.Services.AddReverseProxy()
                .LoadFromMemory([ProxyConfigs.CatchAll("hop2")], [ProxyConfigs.Single("hop2", "envoy-internal://hop2")])
                .AddInternalListenerDestinations(registry);
        }, app =>
        {
            // A literal route outranks the proxy's catch-all: /hop1/info is answered here, the rest goes to hop2.
            app.MapGet("/hop1/info", (HttpContext c) =>
            {
                var info = c.Features.Get<IInternalConnectionFeature>();
                return Results.Json(new
                {
                    listener = info?.ListenerName,
                    state = info?.State.ToDictionary(kv => kv.Key, kv => kv.Value.Value.ToString()),
                });
            });
            app.MapReverseProxy();
        });
        await using var front = await TestHost.StartAsync(b =>
        {
            b.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Use(next => context =>
            {
                context.Items["once"] = new SharedState("o", StateSharing.Once);
                context.Items["trans"] = new SharedState("t", StateSharing.Transitive);
                return next(context);
            })));
            b.Services.AddReverseProxy()
                .LoadFromMemory([ProxyConfigs.CatchAll("hop1")], [ProxyConfigs.Single("hop1", "envoy-internal://hop1")])
                .AddInternalListenerDestinations(registry);
        }, app => app.MapReverseProxy());
        using var client = new HttpClient { BaseAddress = TestHost.Address(front), Timeout = TestHost.Timeout };

        var atHop1 = await GetInfoAsync(client, "/hop1/info");
        Assert.Equal("hop1", atHop1.Listener);
        Assert.Equal(new Dictionary<string, string> { ["once"] = "o", ["trans"] = "t" }, atHop1.State);

        var atHop2 = await GetInfoAsync(client, "/info");
        Assert.Equal("hop2", atHop2.Listener);
        Assert.Equal(new Dictionary<string, string> { ["trans"] = "t" }, atHop2.State);
    }

    /// <summary>A state value class without Equals, GetHashCode or ToString overrides: two instances are two states.</summary>
    private sealed class Tenant(string name)
    {
        public string Name { get; } = name;
    }

    [Fact]
    public async Task Forward_DownstreamStatesOfClassWithoutOverrides_NeverShareUpstreamConnection()
    {
        var registry = new InternalListenerRegistry();
        Tenant[] tenants = [new("first"), new("second")];
        var connections = 0;
        await using var backend = await TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal("tenants"));
        }, app => app.MapGet("/tenant", (HttpContext c) =>
            ((Tenant)c.Features.Get<IInternalConnectionFeature>()!.State["tenant"].Value).Name));
        await using var front = await TestHost.StartAsync(b =>
        {
            b.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Use(next => context =>
            {
                var index = Interlocked.Increment(ref connections) - 1;
                context.Items["tenant"] = new SharedState(index < tenants.Length ? tenants[index] : new Tenant("late"), StateSharing.Once);
                return next(context);
            })));
            b.Services.AddReverseProxy()
                .LoadFromMemory([ProxyConfigs.CatchAll("tenants")], [ProxyConfigs.Single("tenants", "envoy-internal://tenants", ProxyConfigs.Http11)])
                .AddInternalListenerDestinations(registry);
        }, app => app.MapReverseProxy());

        // Each client holds its own downstream connection, so the first gets the first tenant and the second the second;
        // the second request must not ride the idle upstream connection the first one left in the pool.
        using var firstClient = new HttpClient { BaseAddress = TestHost.Address(front), Timeout = TestHost.Timeout };
        using var secondClient = new HttpClient { BaseAddress = TestHost.Address(front), Timeout = TestHost.Timeout };
        var token = TestHost.TimeoutToken();
        Assert.Equal("first", await firstClient.GetStringAsync("/tenant", token));
        Assert.Equal("second", await secondClient.GetStringAsync("/tenant", token));
        Assert.Equal("first", await firstClient.GetStringAsync("/tenant", token));
        Assert.Equal(2, Volatile.Read(ref connections));
    }
}
