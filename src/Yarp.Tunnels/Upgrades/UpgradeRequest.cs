using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Upgrades;

/// <summary>Recognises the requests that ask for an upgraded stream, whatever the HTTP version.</summary>
internal static class UpgradeRequest
{
    /// <summary>The upgrade type of every plain CONNECT (Envoy's special keyword).</summary>
    public const string ConnectType = "CONNECT";

    /// <summary>The RFC 8441 <c>:protocol</c> that means plain CONNECT (Envoy treats it so too).</summary>
    public const string BytestreamProtocol = "bytestream";

    /// <summary>
    /// Detects an upgrade request: HTTP/1.1 <c>Connection: upgrade</c> + <c>Upgrade</c> (the token is the header value as
    /// sent; a list of several protocols stays one value, which matches no configured token), HTTP/2 extended CONNECT
    /// (<c>:protocol</c>), or plain CONNECT (type <see cref="ConnectType"/>).
    /// </summary>
    public static bool TryDetect(HttpContext context, out string upgradeType, out UpgradeRequestKind kind)
    {
        ArgumentNullException.ThrowIfNull(context);
        var features = context.Features;
        if (features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true, Protocol: { } protocol })
        {
            var isBytestream = string.Equals(protocol, BytestreamProtocol, StringComparison.OrdinalIgnoreCase);
            upgradeType = isBytestream ? ConnectType : protocol;
            kind = isBytestream ? UpgradeRequestKind.Connect : UpgradeRequestKind.ExtendedConnect;
            return true;
        }
        if (HttpMethods.IsConnect(context.Request.Method))
        {
            upgradeType = ConnectType;
            kind = UpgradeRequestKind.Connect;
            return true;
        }
        // Kestrel's IsUpgradableRequest (Connection: upgrade on HTTP/1.1) decides whether the body becomes the
        // upgraded stream, so it is the test here too; without an Upgrade header the request is malformed, not an upgrade.
        var upgrade = context.Request.Headers.Upgrade;
        if (features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } && !string.IsNullOrWhiteSpace(upgrade))
        {
            upgradeType = upgrade.Count == 1 ? upgrade[0]!.Trim() : string.Join(", ", upgrade.Select(v => v?.Trim()));
            kind = UpgradeRequestKind.Http1Upgrade;
            return true;
        }
        upgradeType = "";
        kind = default;
        return false;
    }
}
