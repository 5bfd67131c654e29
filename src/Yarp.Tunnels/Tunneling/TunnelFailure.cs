namespace Yarp.Tunnels.Tunneling;

/// <summary>Why a tunnel was not established; each maps to a <c>tcp.&lt;prefix&gt;.tunnel_fail_*</c> counter.</summary>
internal enum TunnelFailure
{
    /// <summary>Established.</summary>
    None,

    /// <summary>The upstream answered with a status that does not establish a tunnel (<see cref="TunnelOpenResult.Status"/>).</summary>
    Status,

    /// <summary>The upstream closed or reset the connection (or stream) before answering.</summary>
    Reset,

    /// <summary>The upstream could not be reached (resolve, connect, TLS handshake, timeout).</summary>
    Connect,

    /// <summary>The upstream's answer was malformed or exceeded the response limits.</summary>
    Protocol,
}
