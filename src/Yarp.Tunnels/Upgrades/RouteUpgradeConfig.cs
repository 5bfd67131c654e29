namespace Yarp.Tunnels.Upgrades;

/// <summary>One entry of a route's upgrade list (<c>Routes:&lt;id&gt;:Upgrades</c>); it overrides the gateway list both ways.</summary>
public sealed record RouteUpgradeConfig
{
    /// <summary>The upgrade token (<c>websocket</c> or any custom token); case-insensitive. CONNECT uses <see cref="RouteUpgradeSettings.Connect"/>.</summary>
    public string? UpgradeType { get; init; }

    /// <summary>Whether the type is allowed on this route; default true.</summary>
    public bool Enabled { get; init; } = true;
}
