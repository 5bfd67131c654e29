namespace Yarp.Tunnels.TcpProxy;

/// <summary>Why an <see cref="IUpstreamConnector"/> could not connect; tunnel kinds map these to their own errors (e.g. 502, 503, 504).</summary>
internal enum UpstreamFailure
{
    /// <summary>Connected.</summary>
    None,

    /// <summary>The destination address cannot be parsed.</summary>
    InvalidAddress,

    /// <summary>The host name did not resolve.</summary>
    ResolveFailed,

    /// <summary>Every resolved address was refused by the address policy.</summary>
    PolicyDenied,

    /// <summary>Every allowed address refused or failed the connect.</summary>
    ConnectFailed,

    /// <summary>Resolving and connecting took longer than the connect timeout.</summary>
    Timeout,

    /// <summary>No internal listener of that name is bound.</summary>
    NoListener,

    /// <summary>The upstream proxy was reached but did not establish the tunnel (a refusing status, a reset, a malformed answer).</summary>
    TunnelRefused,
}
