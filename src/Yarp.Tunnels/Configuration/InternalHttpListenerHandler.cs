using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Configuration;

/// <summary>Internal HTTP listeners: a registered name whose connections the hidden endpoint of its protocols serves.</summary>
internal sealed class InternalHttpListenerHandler(InternalListenerRegistry registry, HiddenHttpEndpoints endpoints, TunnelMetrics metrics) : IListenerHandler
{
    public ListenerKind Kind => ListenerKind.InternalHttp;

    public ValueTask<IActiveListener> StartAsync(ListenerSpec spec, CancellationToken cancellationToken)
    {
        var endpoint = endpoints.SharedFor(HttpProfile.For(spec.Protocols, tls: false));
        var acceptor = new ProfileAcceptor(endpoint, new HttpListenerFeature(spec.Name, spec.StatPrefix));
        var registration = new InternalListenerRegistration(spec.InternalName!, spec.Config.BufferSizeKb ?? InternalEndPoint.DefaultBufferSizeKb,
            acceptor, metrics.Listener(StatNames.InternalListener(spec.InternalName!)));
        return ValueTask.FromResult<IActiveListener>(new RegisteredInternalListener(registry, registration, endpoint.Bound));
    }

    /// <summary>Marks each connection with its listener's identity and hands it to the hidden endpoint.</summary>
    private sealed class ProfileAcceptor(HiddenHttpEndpoint endpoint, HttpListenerFeature listener) : IInternalConnectionAcceptor
    {
        public bool TryAccept(ConnectionContext connection)
        {
            if (!endpoint.TryGetAcceptor(out var acceptor))
            {
                return false;
            }
            connection.Features.Set<IHttpListenerFeature>(listener);
            return acceptor!.TryAccept(connection);
        }
    }
}
