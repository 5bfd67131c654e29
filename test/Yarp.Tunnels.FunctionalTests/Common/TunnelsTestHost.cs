using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>Hosts configured as an application would: <c>LoadFromConfig(section).AddTunnels(section, registry)</c>.</summary>
internal static class TunnelsTestHost
{
    /// <summary>A <c>ReverseProxy</c> section from flat keys relative to it (e.g. <c>Listeners:front:Address</c>).</summary>
    public static IConfigurationSection Section(IReadOnlyDictionary<string, string?> values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(kv => KeyValuePair.Create("ReverseProxy:" + kv.Key, kv.Value)))
            .Build()
            .GetSection("ReverseProxy");

    /// <param name="section">The <c>ReverseProxy</c> section.</param>
    /// <param name="registry">The internal listener registry the host binds into.</param>
    /// <param name="map">Endpoints mapped before the proxy.</param>
    /// <param name="services">Registrations made before the tunnels' own (e.g. a fake <see cref="TimeProvider"/>).</param>
    /// <param name="upgrades">Map with <c>MapTunnelsReverseProxy()</c> (upgrade policy, forwarder, upgrade stats) instead of <c>MapReverseProxy()</c>.</param>
    public static Task<WebApplication> StartAsync(IConfigurationSection section, InternalListenerRegistry registry, Action<WebApplication>? map = null,
        Action<IServiceCollection>? services = null, bool upgrades = false) =>
        TestHost.StartAsync(b =>
        {
            services?.Invoke(b.Services);
            b.Services.AddReverseProxy()
                .LoadFromConfig(section)
                .AddTunnels(section, registry);
        }, app =>
        {
            map?.Invoke(app);
            if (upgrades)
            {
                app.MapTunnelsReverseProxy();
            }
            else
            {
                app.MapReverseProxy();
            }
        });

    /// <summary>The port a socket TCP proxy listener bound (port 0 resolved).</summary>
    public static int TcpProxyPort(this WebApplication app, string listenerName) => app.ListenerPort(listenerName);

    /// <summary>Every listener's state.</summary>
    public static IReadOnlyList<ListenerStatus> GetListeners(this IServiceProvider services) =>
        services.GetRequiredService<IListenerStateProvider>().GetListeners();

    /// <summary>The port a socket listener bound (port 0 resolved).</summary>
    public static int ListenerPort(this WebApplication app, string listenerName) =>
        app.Services.GetRequiredService<IListenerStateProvider>().GetListeners()
            .FirstOrDefault(l => l.Name == listenerName && l.State != ListenerState.Draining)?.BoundEndPoints.OfType<IPEndPoint>().FirstOrDefault()?.Port
            ?? throw new InvalidOperationException($"Listener '{listenerName}' is not a bound socket listener.");

    /// <summary>Waits (bounded) until the listener reaches <paramref name="state"/>; fails with every listener's state otherwise.</summary>
    public static async Task<ListenerStatus> WaitForListenerAsync(this WebApplication app, string listenerName, ListenerState state = ListenerState.Bound)
    {
        var provider = app.Services.GetRequiredService<IListenerStateProvider>();
        var deadline = DateTime.UtcNow + TestHost.Timeout;
        while (true)
        {
            var listeners = provider.GetListeners();
            if (listeners.FirstOrDefault(l => l.Name == listenerName && l.State == state) is { } status)
            {
                return status;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Listener '{listenerName}' did not become {state}. Listeners: {string.Join("; ", listeners)}");
            }
            await Task.Delay(20);
        }
    }

    public static SortedDictionary<string, long> Stats(this WebApplication app) =>
        app.Services.GetRequiredService<TunnelMetrics>().Snapshot();

    /// <summary>Waits (bounded) until the statistic has the expected value; fails with the whole snapshot otherwise.</summary>
    public static async Task WaitForStatAsync(this WebApplication app, string name, long expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var stats = app.Stats();
            if (stats.TryGetValue(name, out var value) && value == expected)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Statistic '{name}' is {(stats.TryGetValue(name, out var v) ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "missing")}, expected {expected}. Snapshot:{Environment.NewLine}"
                    + string.Join(Environment.NewLine, stats.Select(kv => $"  {kv.Key} = {kv.Value}")));
            }
            await Task.Delay(20);
        }
    }
}
