namespace Yarp.Tunnels.Connect;

/// <summary>
/// One way a CONNECT's upstream is reached (terminate: TCP to the target; proxy: CONNECT to an upstream proxy; …). The
/// CONNECT step picks the opener by the route's <see cref="ConnectRoute.Mode"/> and <see cref="ConnectRoute.Decapsulate"/>,
/// opens the upstream before answering the downstream, and relays between the two with <see cref="TcpProxy.TcpRelay"/>.
/// </summary>
internal interface IConnectUpstreamOpener
{
    /// <summary>
    /// Opens the upstream of one CONNECT (or <c>AllowPost</c> POST) before the downstream is answered. Returns the
    /// upstream end, or a failure the step answers with (status, <c>Proxy-Status</c> error and details, headers);
    /// throws only <see cref="OperationCanceledException"/> for <paramref name="cancellationToken"/> (the client went away).
    /// </summary>
    ValueTask<ConnectUpstreamResult> OpenAsync(ConnectContext context, CancellationToken cancellationToken);
}
