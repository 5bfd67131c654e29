namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Wraps the payload inside the tunnel in TLS toward the final target (<c>TcpProxy:Tunneling:PayloadTls</c>): the
/// downstream sends plaintext, the target sees a TLS client. Envoy needs a second hop through an internal listener for this.
/// </summary>
public sealed record TunnelPayloadTlsConfig
{
    /// <summary>The SNI and the name the target's certificate must match; default: the host of the formatted <c>Hostname</c>.</summary>
    public string? ServerName { get; init; }

    /// <summary>Skips validating the target's certificate (tests, self-signed targets); default false.</summary>
    public bool? AcceptAnyServerCertificate { get; init; }
}
