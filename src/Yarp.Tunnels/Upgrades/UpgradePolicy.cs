using System.Collections.Frozen;
using Yarp.Tunnels.Connect;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// A validated, immutable upgrade configuration, and the decision of seed 004's truth table: the route's setting for
/// the type wins both ways; without one the gateway list decides; without a gateway list only <c>websocket</c> is allowed.
/// </summary>
internal sealed class UpgradePolicy
{
    public const string WebSocketType = "websocket";

    /// <summary>The policy of a host with no upgrade settings at all: <c>websocket</c> only (YARP's behaviour).</summary>
    public static readonly UpgradePolicy Default = new(null, FrozenDictionary<string, RoutePolicy>.Empty);

    private readonly FrozenDictionary<string, UpgradeConfig>? _gateway;
    private readonly FrozenDictionary<string, RoutePolicy> _routes;

    public UpgradePolicy(FrozenDictionary<string, UpgradeConfig>? gateway, FrozenDictionary<string, RoutePolicy> routes)
    {
        _gateway = gateway;
        _routes = routes;
    }

    /// <summary>Whether any upgrade setting was declared (a gateway list or a route's settings).</summary>
    public bool HasSettings => _gateway is not null || _routes.Count > 0;

    /// <summary>Decides an upgrade of <paramref name="upgradeType"/> (as sent; <c>CONNECT</c> for CONNECT) on route <paramref name="routeId"/>.</summary>
    public UpgradeDecision Decide(string? routeId, string upgradeType)
    {
        UpgradeConfig? gateway = null;
        _gateway?.TryGetValue(upgradeType, out gateway);
        RoutePolicy? route = null;
        if (routeId is not null)
        {
            _routes.TryGetValue(routeId, out route);
        }

        bool? routeSetting = null;
        if (route is not null)
        {
            routeSetting = string.Equals(upgradeType, UpgradeRequest.ConnectType, StringComparison.OrdinalIgnoreCase)
                ? route.Connect?.Enabled
                : route.Upgrades.TryGetValue(upgradeType, out var enabled) ? enabled : null;
        }

        var allowed = routeSetting
            ?? gateway?.Enabled
            ?? (_gateway is null && string.Equals(upgradeType, WebSocketType, StringComparison.OrdinalIgnoreCase));
        return new UpgradeDecision(allowed, gateway?.Chain, route?.IdleTimeout);
    }

    /// <summary>
    /// How CONNECT (and a POST with <c>AllowPost</c>) is handled on <paramref name="routeId"/>: its <c>Connect</c> block,
    /// or <see cref="ConnectRoute.WithoutBlock"/> when it has none.
    /// </summary>
    public ConnectRoute ConnectOf(string? routeId) =>
        routeId is not null && _routes.TryGetValue(routeId, out var route) && route.Connect is { } connect ? connect : ConnectRoute.WithoutBlock;

    /// <summary>The validated settings of one route.</summary>
    /// <param name="Upgrades">Enabled flags by upgrade type (case-insensitive).</param>
    /// <param name="Connect">The route's validated <c>Connect</c> block (its <c>Enabled</c> is the CONNECT switch), or null.</param>
    /// <param name="IdleTimeout">The idle timeout of the route's upgraded streams, or null.</param>
    internal sealed record RoutePolicy(FrozenDictionary<string, bool> Upgrades, ConnectRoute? Connect, TimeSpan? IdleTimeout);
}
