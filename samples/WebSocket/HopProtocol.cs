using Microsoft.AspNetCore.Http.Features;

namespace WebSocketSample;

/// <summary>How a request reached the server that handles it: <c>"&lt;protocol&gt; &lt;mechanism&gt;"</c>.</summary>
/// <remarks>
/// The mechanism is <c>extended-connect</c> (HTTP/2 CONNECT with <c>:protocol</c>, RFC 8441), <c>upgrade</c> (HTTP/1.1
/// <c>Connection: Upgrade</c>) or <c>none</c>; e.g. <c>"HTTP/2 extended-connect"</c>, <c>"HTTP/1.1 upgrade"</c>.
/// </remarks>
internal static class HopProtocol
{
    public static string Describe(HttpContext context)
    {
        var mechanism = context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } ? "extended-connect"
            : context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } ? "upgrade"
            : "none";
        return $"{context.Request.Protocol} {mechanism}";
    }
}
