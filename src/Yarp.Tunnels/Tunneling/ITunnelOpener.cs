using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling;

/// <summary>
/// Opens one HTTP tunnel (CONNECT or POST) on an upstream proxy, over HTTP/1.1 or HTTP/2. The TCP proxy's tunnelling
/// connector picks the opener registered for the listener's <c>Tunneling:Protocol</c> (a keyed service keyed by
/// <see cref="Configuration.TunnelProtocol"/>) and relays the downstream through the stream it returns.
/// </summary>
internal interface ITunnelOpener
{
    /// <summary>
    /// Opens the upstream connection (or reuses a multiplexed one) to <see cref="UpstreamRequest.Address"/> and sends
    /// <paramref name="head"/>; returns once the tunnel is established or failed. Never relays an error page as payload.
    /// Throws only <see cref="OperationCanceledException"/> for <paramref name="cancellationToken"/>.
    /// </summary>
    ValueTask<TunnelOpenResult> OpenAsync(UpstreamRequest request, TunnelHead head, TunnelTransportOptions transport, CancellationToken cancellationToken);
}
