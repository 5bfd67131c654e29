using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Upgrades;

/// <summary>Kestrel's HTTP/1.1 upgrade feature, starting the <see cref="UpgradeSession"/> when the forwarder upgrades the downstream.</summary>
internal sealed class TrackingUpgradeFeature(IHttpUpgradeFeature inner, UpgradeSession session) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync() => session.Start(await inner.UpgradeAsync().ConfigureAwait(false));
}
