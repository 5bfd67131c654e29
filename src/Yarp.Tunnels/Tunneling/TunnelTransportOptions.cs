using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling;

/// <summary>Transport settings of the hop to the upstream proxy.</summary>
/// <param name="UseTls">Whether the connection to the proxy is TLS (destination <c>https://</c>).</param>
/// <param name="TlsServerName">The SNI and the name the proxy's certificate must match; null uses the destination's host.</param>
/// <param name="ValidateCertificate">Whether the proxy's certificate is validated (false: the cluster's <c>HttpClient:DangerousAcceptAnyServerCertificate</c>).</param>
/// <param name="MaxTunnelsPerConnection">HTTP/2: tunnels multiplexed on one connection before another opens (never above the peer's SETTINGS_MAX_CONCURRENT_STREAMS).</param>
internal sealed record TunnelTransportOptions(bool UseTls, string? TlsServerName, bool ValidateCertificate, int MaxTunnelsPerConnection)
{
    /// <summary>The default of <c>Tunneling:MaxTunnelsPerConnection</c>.</summary>
    public const int DefaultMaxTunnelsPerConnection = 1000;

    /// <summary>
    /// The hop to <paramref name="request"/>'s destination: TLS for an <c>https://</c> address, SNI from the destination's
    /// <c>Host</c>, validation unless the cluster's <c>HttpClient:DangerousAcceptAnyServerCertificate</c>, and
    /// <paramref name="maxTunnelsPerConnection"/> (or the default).
    /// </summary>
    public static TunnelTransportOptions For(UpstreamRequest request, int? maxTunnelsPerConnection = null) => new(
        request.Address.StartsWith("https://", StringComparison.OrdinalIgnoreCase),
        request.Destination.Model.Config.Host,
        ValidateCertificate: request.Cluster.Model.Config.HttpClient?.DangerousAcceptAnyServerCertificate != true,
        maxTunnelsPerConnection ?? DefaultMaxTunnelsPerConnection);
}
