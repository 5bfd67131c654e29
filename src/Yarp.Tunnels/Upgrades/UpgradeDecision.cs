namespace Yarp.Tunnels.Upgrades;

/// <summary>What the upgrade policy says about one upgrade request on one route.</summary>
/// <param name="Allowed">Whether the upgrade may proceed.</param>
/// <param name="Chain">The chain that replaces the proxy pipeline steps for it, or null.</param>
/// <param name="IdleTimeout">The route's idle timeout for the upgraded stream, or null.</param>
internal readonly record struct UpgradeDecision(bool Allowed, string? Chain, TimeSpan? IdleTimeout);
