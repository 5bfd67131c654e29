using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// Set on every HTTP/1.x connection that passes through <see cref="Http1ConnectShim"/> (reachable from the request's
/// <c>HttpContext.Features</c>, which fall back to the connection's): hands the raw connection to a CONNECT tunnel.
/// </summary>
internal interface IHttp1ConnectFeature
{
    /// <summary>Whether <see cref="DetachAsync"/> hands over the socket itself (a plain socket of a <c>ReverseProxy:Listeners</c> listener, no TLS).</summary>
    bool IsPlainSocket { get; }

    /// <summary>
    /// Detaches Kestrel from the connection: from now on Kestrel's reads see nothing until the returned end is disposed
    /// (then end of stream), its writes are swallowed, and its aborts reset the tunnel. The end reads the bytes after
    /// the request's header block (pipelined ones included) and writes straight to the client: on a plain socket of a
    /// <c>ReverseProxy:Listeners</c> listener, the socket itself (after what Kestrel wrote was sent).
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection was already detached.</exception>
    /// <exception cref="IOException">The connection closed meanwhile.</exception>
    ValueTask<RelayEnd> DetachAsync();
}
