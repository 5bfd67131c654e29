namespace Yarp.Tunnels.Upgrades;

/// <summary>The upgrade settings of one YARP route (the keys Yarp.Tunnels reads beside the route's own).</summary>
public sealed record RouteUpgradeSettings
{
    /// <summary>Per-type overrides of the gateway list (<c>Routes:&lt;id&gt;:Upgrades</c>).</summary>
    public IReadOnlyList<RouteUpgradeConfig> Upgrades { get; init; } = [];

    /// <summary>
    /// Whether CONNECT is allowed on this route: the route's <c>Connect</c> block (present means true unless
    /// <c>Connect:Enabled</c> is false); null leaves it to the gateway list.
    /// </summary>
    public bool? ConnectEnabled { get; init; }

    /// <summary>Closes an upgraded stream of this route after this long without a byte either way (<c>Routes:&lt;id&gt;:UpgradeIdleTimeout</c>); null: no limit of its own.</summary>
    public TimeSpan? UpgradeIdleTimeout { get; init; }
}
