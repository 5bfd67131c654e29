namespace Yarp.Tunnels.TcpProxy;

/// <summary>
/// Opens the upstream side of a proxied connection (a socket, an internal listener, and with tunnelling an HTTP CONNECT
/// or POST stream); the relay then runs between the downstream end and what it returns. <see cref="UpstreamConnectors"/>
/// picks the connector for a request.
/// </summary>
internal interface IUpstreamConnector
{
    /// <summary>Connects, or returns a typed failure; throws only <see cref="OperationCanceledException"/> for <paramref name="cancellationToken"/>.</summary>
    ValueTask<UpstreamConnection> ConnectAsync(UpstreamRequest request, CancellationToken cancellationToken);
}
