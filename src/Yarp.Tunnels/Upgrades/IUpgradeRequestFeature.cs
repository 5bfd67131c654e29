namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// Set on the <see cref="Microsoft.AspNetCore.Http.HttpContext"/> of an upgrade request that the upgrade policy allowed,
/// for the proxy-pipeline steps that run after it (chains, the upgrade forwarder, CONNECT handling).
/// </summary>
internal interface IUpgradeRequestFeature
{
    /// <summary>The upgrade token as the client sent it (<c>Upgrade</c> header or <c>:protocol</c>); <c>CONNECT</c> for plain CONNECT.</summary>
    string UpgradeType { get; }

    /// <summary>How the client asked for the upgrade.</summary>
    UpgradeRequestKind Kind { get; }

    /// <summary>The matched route's idle timeout for the upgraded stream, or null when the route sets none.</summary>
    TimeSpan? IdleTimeout { get; }
}
