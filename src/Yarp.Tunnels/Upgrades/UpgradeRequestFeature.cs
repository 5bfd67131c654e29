namespace Yarp.Tunnels.Upgrades;

/// <summary>The <see cref="IUpgradeRequestFeature"/> the policy step sets, plus the chain it selected.</summary>
internal sealed class UpgradeRequestFeature(string upgradeType, UpgradeRequestKind kind, UpgradeDecision decision) : IUpgradeRequestFeature
{
    public string UpgradeType { get; } = upgradeType;

    public UpgradeRequestKind Kind { get; } = kind;

    public TimeSpan? IdleTimeout { get; } = decision.IdleTimeout;

    /// <summary>The chain that replaces the proxy pipeline steps for this upgrade, or null.</summary>
    public string? Chain { get; } = decision.Chain;

    /// <summary>The counting and activity of this upgrade once established (the CONNECT step starts it itself).</summary>
    public UpgradeSession? Session { get; set; }
}
