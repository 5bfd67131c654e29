using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>The connection to the HTTP/2 server could not be opened (connect, TLS/ALPN, or its SETTINGS never came).</summary>
internal sealed class Http2ConnectException(UpstreamFailure failure, string message) : Exception(message)
{
    public UpstreamFailure Failure { get; } = failure;
}
