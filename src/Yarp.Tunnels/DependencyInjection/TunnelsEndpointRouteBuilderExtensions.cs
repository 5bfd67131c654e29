using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Connect;
using Yarp.Tunnels.Upgrades;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps YARP's routes with the Yarp.Tunnels proxy steps (upgrade policy and chains) around the app's own.</summary>
public static class TunnelsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// <c>MapReverseProxy()</c> with Yarp.Tunnels' upgrade handling: YARP's default proxy steps (session affinity, load
    /// balancing, passive health checks), preceded by the upgrade policy.
    /// </summary>
    public static ReverseProxyConventionBuilder MapTunnelsReverseProxy(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapTunnelsReverseProxy(UpgradePipeline.DefaultSteps);

    /// <summary>
    /// <c>MapReverseProxy(configureApp)</c> with Yarp.Tunnels' upgrade handling. Each proxied request first passes the
    /// upgrade policy (<c>ReverseProxy:Upgrades</c> and the routes' <c>Upgrades</c> / <c>Connect</c>: a refused upgrade
    /// gets 403); an upgrade whose type selects a chain (<c>AddUpgradeChain</c>) runs that chain instead of
    /// <paramref name="configureApp"/>'s steps; everything else runs them as <c>MapReverseProxy</c> would.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="configureApp">The proxy steps for ordinary requests, as for <c>MapReverseProxy(configureApp)</c>.</param>
    public static ReverseProxyConventionBuilder MapTunnelsReverseProxy(this IEndpointRouteBuilder endpoints, Action<IReverseProxyApplicationBuilder> configureApp)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(configureApp);
        var policies = endpoints.ServiceProvider.GetService<UpgradePolicyManager>()
            ?? throw new InvalidOperationException("MapTunnelsReverseProxy needs AddReverseProxy().AddTunnels(…) in the services.");
        policies.MarkPipelineMapped();
        var chains = endpoints.ServiceProvider.GetServices<UpgradeChain>().ToList();
        ConnectFallback.Map(endpoints);
        return endpoints.MapReverseProxy(proxy => UpgradePipeline.Configure(proxy, configureApp, chains));
    }
}
