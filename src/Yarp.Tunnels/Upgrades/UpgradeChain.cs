using Microsoft.AspNetCore.Builder;

namespace Yarp.Tunnels.Upgrades;

/// <summary>A named middleware chain registered with <c>AddUpgradeChain</c>, selected by <see cref="UpgradeConfig.Chain"/>.</summary>
/// <param name="Name">The name configuration refers to (case-sensitive).</param>
/// <param name="Configure">Adds the chain's steps to the proxy pipeline branch of the upgrades that select it.</param>
internal sealed record UpgradeChain(string Name, Action<IReverseProxyApplicationBuilder> Configure);
