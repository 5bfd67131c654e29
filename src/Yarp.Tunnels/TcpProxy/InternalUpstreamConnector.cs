using Yarp.Tunnels.Destinations;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>Connects to <c>envoy-internal://NAME</c>: opens an internal connection carrying the destination's endpoint id, metadata and the downstream's shared state.</summary>
internal sealed class InternalUpstreamConnector(InternalListenerRegistry registry, TunnelMetrics metrics) : IUpstreamConnector
{
    public ValueTask<UpstreamConnection> ConnectAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        if (!InternalAddress.TryParse(request.Address, out var name, out _, out var error))
        {
            return new(UpstreamConnection.Failed(UpstreamFailure.InvalidAddress, $"'{request.Address}': {error}."));
        }
        var metadata = request.Destination.Model.Config.Metadata;
        var options = new InternalConnectOptions
        {
            EndpointId = metadata?.GetValueOrDefault(InternalUpstreamMetadata.EndpointId) ?? request.Destination.DestinationId,
            Metadata = PassthroughMetadata.Collect(request.ClusterId, request.Cluster.Model.Config.Metadata, metadata, metrics),
            State = SharedStateCollector.Collect(request.DownstreamFeatures),
        };
        try
        {
            return new(UpstreamConnection.Connected(new StreamRelayEnd(registry.Connect(name, options))));
        }
        catch (InternalListenerNotFoundException ex)
        {
            return new(UpstreamConnection.Failed(UpstreamFailure.NoListener, ex.Message));
        }
    }
}
