namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// One entry of the gateway-wide upgrade list (<c>ReverseProxy:Upgrades</c>, Envoy's HCM <c>upgrade_configs</c>): whether
/// an upgrade type is allowed by default and which middleware chain it runs.
/// </summary>
public sealed record UpgradeConfig
{
    /// <summary>The upgrade token (<c>websocket</c>, any custom token such as <c>foo</c>, or <c>CONNECT</c>); case-insensitive.</summary>
    public string? UpgradeType { get; init; }

    /// <summary>Whether the type is allowed on routes that do not decide for themselves; default true.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// The name of a chain registered with <c>AddUpgradeChain</c>; upgrades of this type run it instead of the proxy
    /// pipeline steps passed to <c>MapTunnelsReverseProxy</c>. Null runs those steps.
    /// </summary>
    public string? Chain { get; init; }
}
