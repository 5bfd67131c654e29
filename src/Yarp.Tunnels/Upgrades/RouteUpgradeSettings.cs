using Yarp.Tunnels.Connect;

namespace Yarp.Tunnels.Upgrades;

/// <summary>The upgrade settings of one YARP route (the keys Yarp.Tunnels reads beside the route's own).</summary>
public sealed record RouteUpgradeSettings
{
    /// <summary>Per-type overrides of the gateway list (<c>Routes:&lt;id&gt;:Upgrades</c>).</summary>
    public IReadOnlyList<RouteUpgradeConfig> Upgrades { get; init; } = [];

    /// <summary>
    /// The route's <c>Connect</c> block: present, it allows CONNECT on this route unless <see cref="ConnectConfig.Enabled"/>
    /// is false, and says how CONNECT is handled; null leaves CONNECT to the gateway list.
    /// </summary>
    public ConnectConfig? Connect { get; init; }

    /// <summary>Closes an upgraded stream of this route after this long without a byte either way (<c>Routes:&lt;id&gt;:UpgradeIdleTimeout</c>); null: no limit of its own.</summary>
    public TimeSpan? UpgradeIdleTimeout { get; init; }
}
