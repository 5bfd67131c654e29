using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.Connect;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// Lays out the proxy pipeline between YARP's initializer and its limits + forwarder steps: the upgrade policy, then
/// for an upgrade whose type selects a chain that chain (after YARP's session affinity, load balancing and passive
/// health steps, which it would otherwise miss), and for everything else the user's steps; then the CONNECT step
/// (tunnels, and POSTs with <c>AllowPost</c>) and the forwarder of the upgrades YARP cannot proxy (WebSockets go on to
/// YARP's forwarder).
/// </summary>
internal static class UpgradePipeline
{
    /// <summary>
    /// YARP's default proxy steps (those of the no-argument <c>MapReverseProxy()</c>), except load balancing for an
    /// original-destination cluster: it has no destinations to pick from, and YARP's step would log a warning for every
    /// CONNECT routed to it.
    /// </summary>
    public static void DefaultSteps(IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseSessionAffinity();
        proxy.UseWhen(context => !OriginalDestination.IsDeclared(context.GetReverseProxyFeature().Cluster.Config),
            branch => new ProxyBranchBuilder(branch).UseLoadBalancing());
        proxy.UsePassiveHealthChecks();
    }

    public static void Configure(IReverseProxyApplicationBuilder proxy, Action<IReverseProxyApplicationBuilder> userSteps, IReadOnlyCollection<UpgradeChain> chains)
    {
        proxy.UseMiddleware<UpgradePolicyMiddleware>();
        if (chains.Count == 0)
        {
            // No chain to select: every request runs the user's steps, with no per-request test.
            userSteps(proxy);
        }
        else
        {
            foreach (var chain in chains)
            {
                proxy.UseWhen(context => ChainOf(context) == chain.Name, branch =>
                {
                    var chainProxy = new ProxyBranchBuilder(branch);
                    DefaultSteps(chainProxy);
                    chain.Configure(chainProxy);
                    // A chain that answered (even if it then called next) has stopped the upgrade.
                    chainProxy.Use(next => context => context.Response.HasStarted ? Task.CompletedTask : next(context));
                });
            }
            proxy.UseWhen(context => ChainOf(context) is null, branch => userSteps(new ProxyBranchBuilder(branch)));
        }
        proxy.UseMiddleware<ConnectMiddleware>();
        proxy.UseMiddleware<UpgradeForwarderMiddleware>();
    }

    private static string? ChainOf(HttpContext context) => (context.Features.Get<IUpgradeRequestFeature>() as UpgradeRequestFeature)?.Chain;
}
