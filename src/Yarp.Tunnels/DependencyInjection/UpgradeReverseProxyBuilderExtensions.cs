using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Yarp.Tunnels.Connect;
using Yarp.Tunnels.Upgrades;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers upgrade middleware chains (Envoy's per-upgrade-type filter chains).</summary>
public static class UpgradeReverseProxyBuilderExtensions
{
    /// <summary>
    /// Registers the chain <paramref name="name"/>, selected in configuration by <c>ReverseProxy:Upgrades[i]:Chain</c>
    /// (or <see cref="UpgradeConfig.Chain"/>). For an allowed upgrade of that type, <c>MapTunnelsReverseProxy</c> runs
    /// YARP's session affinity, load balancing and passive health steps, then this chain, instead of the proxy steps
    /// it was given, and then forwards. A chain step that writes a response stops the upgrade.
    /// </summary>
    /// <param name="builder">The reverse proxy builder.</param>
    /// <param name="name">The chain name (case-sensitive, unique).</param>
    /// <param name="configure">Adds the chain's steps (e.g. <c>chain.Use(…)</c>).</param>
    public static IReverseProxyBuilder AddUpgradeChain(this IReverseProxyBuilder builder, string name, Action<IReverseProxyApplicationBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        if (builder.Services.Any(s => s.ImplementationInstance is UpgradeChain chain && chain.Name == name))
        {
            throw new ArgumentException($"An upgrade chain named '{name}' is already registered.", nameof(name));
        }
        builder.Services.AddSingleton(new UpgradeChain(name, configure));
        return builder;
    }

    /// <summary>The services of the upgrade policy; <c>AddTunnels</c> calls this.</summary>
    internal static IServiceCollection AddUpgradePolicy(this IServiceCollection services)
    {
        services.AddOptions<TunnelUpgradeOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<UpgradePolicyManager>();
        services.TryAddSingleton<TerminateConnectOpener>();
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, ConnectHostStartupFilter>());
        return services;
    }
}
