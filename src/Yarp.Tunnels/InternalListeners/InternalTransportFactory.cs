using System.Net;
using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// The Kestrel transport for <see cref="InternalEndPoint"/>s. It sits beside the socket transport: Kestrel asks
/// <see cref="CanBind"/> and binds only internal endpoints here.
/// </summary>
internal sealed class InternalTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly InternalListenerRegistry _registry;
    private readonly TunnelMetrics _metrics;

    public InternalTransportFactory(InternalListenerRegistry registry, TunnelMetrics metrics)
    {
        _registry = registry;
        _metrics = metrics;
    }

    public bool CanBind(EndPoint endpoint) => endpoint is InternalEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not InternalEndPoint internalEndPoint)
        {
            throw new NotSupportedException($"{endpoint.GetType()} is not supported by the internal listener transport.");
        }

        InternalListenerRegistration? registration = null;
        var listener = new InternalConnectionListener(internalEndPoint, _ =>
        {
            if (registration is not null)
            {
                _registry.Remove(registration);
            }
        });
        registration = new InternalListenerRegistration(
            internalEndPoint.Name,
            internalEndPoint.BufferSizeKb,
            listener,
            _metrics.Listener(StatNames.InternalListener(internalEndPoint.Name)));
        _registry.Add(registration);
        return new ValueTask<IConnectionListener>(listener);
    }
}
