namespace Yarp.Tunnels.Upgrades;

/// <summary>Upgrade settings declared from code, in addition to those of the <c>ReverseProxy</c> section.</summary>
public sealed class TunnelUpgradeOptions
{
    /// <summary>
    /// Gateway-wide entries, added to <c>ReverseProxy:Upgrades</c>. When neither declares a list, only <c>websocket</c>
    /// is allowed; a declared list allows exactly its enabled entries.
    /// </summary>
    public IList<UpgradeConfig>? Upgrades { get; set; }

    /// <summary>Route settings by route id; a route may be set here or in configuration, not both.</summary>
    public IDictionary<string, RouteUpgradeSettings> Routes { get; } = new Dictionary<string, RouteUpgradeSettings>(StringComparer.OrdinalIgnoreCase);
}
