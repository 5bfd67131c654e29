using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Connect;

/// <summary>The outcome of <see cref="IConnectUpstreamOpener.OpenAsync"/>: an upstream end, or how to answer the client.</summary>
/// <param name="Upstream">The opened upstream (the relay owns it from then on), or null on failure.</param>
/// <param name="StatusCode">On failure: 403, 502, 503, 504, or an upstream proxy's status.</param>
/// <param name="ProxyStatusError">On failure: the RFC 9209 error type (<c>connection_refused</c>, <c>connection_timeout</c>, <c>dns_error</c>, <c>destination_unavailable</c>, …), or null to send no <c>Proxy-Status</c> (an upstream proxy's own answer).</param>
/// <param name="Details">A short reason for the <c>Proxy-Status</c> details and the log (no quotes or backslashes).</param>
/// <param name="ResponseHeaders">Headers to add to the answer (an upstream proxy's, in proxy mode).</param>
internal sealed record ConnectUpstreamResult(RelayEnd? Upstream, int StatusCode, string? ProxyStatusError, string? Details,
    IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders)
{
    public static ConnectUpstreamResult Connected(RelayEnd upstream, IReadOnlyList<KeyValuePair<string, string>>? headers = null) =>
        new(upstream, StatusCodes.Status200OK, null, null, headers ?? []);

    public static ConnectUpstreamResult Failed(int statusCode, string? proxyStatusError, string details, IReadOnlyList<KeyValuePair<string, string>>? headers = null) =>
        new(null, statusCode, proxyStatusError, details, headers ?? []);
}
