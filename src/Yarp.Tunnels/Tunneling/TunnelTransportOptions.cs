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
}
