using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Connect;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// Reads <c>ReverseProxy:Upgrades</c> and the upgrade keys of each <c>ReverseProxy:Routes:&lt;id&gt;</c>
/// (<c>Upgrades</c>, the <c>Connect</c> block, <c>UpgradeIdleTimeout</c>), recording every value that does not parse as an
/// error naming the route and key.
/// </summary>
internal static class UpgradeConfigReader
{
    public const string UpgradesKey = "Upgrades";
    public const string ConnectKey = "Connect";
    public const string IdleTimeoutKey = "UpgradeIdleTimeout";

    public static UpgradesConfig Read(IConfiguration? reverseProxySection, IList<string> errors)
    {
        var routes = new Dictionary<string, RouteUpgradeSettings>(StringComparer.OrdinalIgnoreCase);
        if (reverseProxySection is null)
        {
            return new UpgradesConfig(null, routes);
        }

        IReadOnlyList<UpgradeConfig>? gateway = null;
        if (ConfigValueReader.HasKey(reverseProxySection, UpgradesKey))
        {
            gateway = reverseProxySection.GetSection(UpgradesKey).GetChildren().Select(entry => new UpgradeConfig
            {
                UpgradeType = entry["UpgradeType"],
                Enabled = ConfigValueReader.ReadBool(entry, "Enabled", $"{UpgradesKey}[{entry.Key}]", errors) ?? true,
                Chain = entry["Chain"],
            }).ToList();
        }

        foreach (var route in reverseProxySection.GetSection("Routes").GetChildren())
        {
            var where = $"Route '{route.Key}'";
            var hasUpgrades = ConfigValueReader.HasKey(route, UpgradesKey);
            var hasConnect = ConfigValueReader.HasKey(route, ConnectKey);
            var idle = ConfigValueReader.ReadTimeSpan(route, IdleTimeoutKey, where, errors);
            if (!hasUpgrades && !hasConnect && idle is null)
            {
                continue;
            }
            routes[route.Key] = new RouteUpgradeSettings
            {
                Upgrades = route.GetSection(UpgradesKey).GetChildren().Select(entry => new RouteUpgradeConfig
                {
                    UpgradeType = entry["UpgradeType"],
                    Enabled = ConfigValueReader.ReadBool(entry, "Enabled", $"{where}: {UpgradesKey}[{entry.Key}]", errors) ?? true,
                }).ToList(),
                // A Connect block enables CONNECT on the route unless it says Enabled: false (DESIGN §9.2).
                Connect = hasConnect ? ConnectConfigReader.Read(route.GetSection(ConnectKey), $"{where}: {ConnectKey}", errors) : null,
                UpgradeIdleTimeout = idle,
            };
        }
        return new UpgradesConfig(gateway, routes);
    }
}
