using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Upgrades;

/// <summary>Kestrel's extended CONNECT feature, starting the <see cref="UpgradeSession"/> when the forwarder accepts the stream.</summary>
internal sealed class TrackingExtendedConnectFeature(IHttpExtendedConnectFeature inner, UpgradeSession session) : IHttpExtendedConnectFeature
{
    public bool IsExtendedConnect => inner.IsExtendedConnect;

    public string? Protocol => inner.Protocol;

    public async ValueTask<Stream> AcceptAsync() => session.Start(await inner.AcceptAsync().ConfigureAwait(false));
}
