namespace Yarp.Tunnels.Upgrades;

/// <summary>The upgrade settings of one source (the configuration section or the code options), before validation.</summary>
/// <param name="Gateway">The gateway-wide list, or null when the source declares none.</param>
/// <param name="Routes">Route settings by route id.</param>
internal sealed record UpgradesConfig(IReadOnlyList<UpgradeConfig>? Gateway, IReadOnlyDictionary<string, RouteUpgradeSettings> Routes)
{
    public static UpgradesConfig From(TunnelUpgradeOptions options) =>
        new(options.Upgrades?.ToList(), new Dictionary<string, RouteUpgradeSettings>(options.Routes, StringComparer.OrdinalIgnoreCase));
}
