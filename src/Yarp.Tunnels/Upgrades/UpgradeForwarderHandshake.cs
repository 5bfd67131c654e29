using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// Finds malformed upgrade requests before anything is forwarded, so the client gets a specific 4xx from the gateway
/// rather than whatever a backend makes of them: <c>Connection: upgrade</c> without an <c>Upgrade</c> header (Kestrel
/// still treats such a request as upgradable), and WebSocket handshakes that RFC 6455 §4.2.1 / RFC 8441 §5 reject.
/// </summary>
internal static class UpgradeForwarderHandshake
{
    /// <summary>The only WebSocket version (RFC 6455 §4.4: a server answers any other with 426 and this value).</summary>
    public const string WebSocketVersion = "13";

    /// <summary>Null when the request is well formed; otherwise the status and a short reason.</summary>
    public static (int Status, string Reason)? FindProblem(HttpContext context, IUpgradeRequestFeature? upgrade)
    {
        var headers = context.Request.Headers;
        if (upgrade is null)
        {
            return context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } && string.IsNullOrWhiteSpace(headers.Upgrade)
                ? (StatusCodes.Status400BadRequest, "Connection: upgrade without an Upgrade header")
                : null;
        }
        if (!string.Equals(upgrade.UpgradeType, "websocket", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (!string.Equals(headers.SecWebSocketVersion, WebSocketVersion, StringComparison.Ordinal))
        {
            return (StatusCodes.Status426UpgradeRequired, "Sec-WebSocket-Version must be 13");
        }
        if (upgrade.Kind == UpgradeRequestKind.Http1Upgrade && !IsValidKey(headers.SecWebSocketKey))
        {
            return (StatusCodes.Status400BadRequest, "missing or invalid Sec-WebSocket-Key");
        }
        return null;
    }

    /// <summary>RFC 6455 §4.1: the base64 encoding of 16 bytes.</summary>
    private static bool IsValidKey(string? key)
    {
        Span<byte> decoded = stackalloc byte[16];
        return key is { Length: 24 } && Convert.TryFromBase64String(key, decoded, out var length) && length == 16;
    }
}
