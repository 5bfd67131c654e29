namespace Yarp.Tunnels.Configuration;

/// <summary>The HTTP version a TCP proxy listener's tunnels are opened with (<c>TcpProxy:Tunneling:Protocol</c>).</summary>
public enum TunnelProtocol
{
    /// <summary>HTTP/1.1: <c>CONNECT host:port HTTP/1.1</c> (or a chunked <c>POST</c>), one upstream connection per tunnel.</summary>
    Http1,

    /// <summary>HTTP/2: classic CONNECT (RFC 9113 §8.5) or POST streams, many tunnels per upstream connection.</summary>
    Http2,
}
