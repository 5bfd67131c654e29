using Yarp.Tunnels.Destinations;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>The one place that picks the <see cref="IUpstreamConnector"/> for a request: internal listeners by address scheme, sockets otherwise.</summary>
internal sealed class UpstreamConnectors(InternalListenerRegistry registry, TunnelMetrics metrics, TimeProvider timeProvider)
{
    private readonly InternalUpstreamConnector _internal = new(registry, metrics);
    private readonly SocketUpstreamConnector _socket = new(timeProvider);

    public IUpstreamConnector Select(UpstreamRequest request) => InternalAddress.IsInternal(request.Address) ? _internal : _socket;
}
