namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Carries each connection of a TCP proxy listener inside an HTTP tunnel (CONNECT or POST) to the picked cluster
/// destination, the upstream proxy (Envoy's <c>tcp_proxy</c> <c>tunneling_config</c>).
/// </summary>
public sealed record TunnelingConfig
{
    /// <summary>
    /// The CONNECT authority (or the POST's host), <c>host:port</c>; required. May use the variables
    /// <c>%DOWNSTREAM_LOCAL_PORT%</c>, <c>%DOWNSTREAM_LOCAL_ADDRESS%</c>, <c>%DOWNSTREAM_REMOTE_ADDRESS%</c> (and their
    /// <c>_WITHOUT_PORT</c> forms), <c>%REQUESTED_SERVER_NAME%</c>, <c>%DESTINATION_METADATA(key)%</c> and
    /// <c>%CLUSTER_METADATA(key)%</c>; <c>%%</c> is a literal <c>%</c>.
    /// </summary>
    public string? Hostname { get; init; }

    /// <summary>The HTTP version of the tunnels; default <see cref="TunnelProtocol.Http1"/>.</summary>
    public TunnelProtocol? Protocol { get; init; }

    /// <summary>Sends <c>POST</c> to <see cref="PostPath"/> instead of <c>CONNECT</c>; default false.</summary>
    public bool? UsePost { get; init; }

    /// <summary>The path of <see cref="UsePost"/> requests; default <c>/</c>. Only with <see cref="UsePost"/>.</summary>
    public string? PostPath { get; init; }

    /// <summary>Extra request headers (at most 1000); values take the variables of <see cref="Hostname"/>.</summary>
    public IReadOnlyDictionary<string, string>? HeadersToAdd { get; init; }

    /// <summary>Puts the tunnel response's headers into the downstream connection's state; default false.</summary>
    public bool? PropagateResponseHeaders { get; init; }

    /// <summary>Puts the tunnel response's trailers into the downstream connection's state; default false.</summary>
    public bool? PropagateResponseTrailers { get; init; }

    /// <summary>HTTP/2: tunnels multiplexed on one upstream connection before another opens; default 1000.</summary>
    public int? MaxTunnelsPerConnection { get; init; }

    /// <summary>When set, the payload is wrapped in TLS toward the final target once the tunnel is established.</summary>
    public TunnelPayloadTlsConfig? PayloadTls { get; init; }

    /// <summary>Equal when every setting is, <see cref="HeadersToAdd"/> by content (names case-insensitive), so a reload that changes nothing keeps the listener.</summary>
    public bool Equals(TunnelingConfig? other) =>
        other is not null
        && Hostname == other.Hostname && Protocol == other.Protocol && UsePost == other.UsePost && PostPath == other.PostPath
        && PropagateResponseHeaders == other.PropagateResponseHeaders && PropagateResponseTrailers == other.PropagateResponseTrailers
        && MaxTunnelsPerConnection == other.MaxTunnelsPerConnection && PayloadTls == other.PayloadTls && SameHeaders(HeadersToAdd, other.HeadersToAdd);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Hostname, Protocol, UsePost, PostPath, HeadersToAdd?.Count);

    private static bool SameHeaders(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        ReferenceEquals(a, b)
        || (a is not null && b is not null && a.Count == b.Count
            && a.All(h => b.Any(o => string.Equals(o.Key, h.Key, StringComparison.OrdinalIgnoreCase) && o.Value == h.Value)));
}
