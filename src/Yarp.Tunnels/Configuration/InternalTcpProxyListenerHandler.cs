using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Configuration;

/// <summary>Internal TCP proxy listeners: a registered name whose connections are relayed without Kestrel.</summary>
internal sealed class InternalTcpProxyListenerHandler(InternalListenerRegistry registry, TcpProxyServices services, TunnelMetrics metrics) : IListenerHandler
{
    public ListenerKind Kind => ListenerKind.InternalTcpProxy;

    public ValueTask<IActiveListener> StartAsync(ListenerSpec spec, CancellationToken cancellationToken)
    {
        var acceptor = new TcpProxyAcceptor(new TcpProxyHandler(spec.Name, spec.Config.TcpProxy!, services));
        var registration = new InternalListenerRegistration(spec.InternalName!, spec.Config.BufferSizeKb ?? InternalEndPoint.DefaultBufferSizeKb,
            acceptor, metrics.Listener(StatNames.InternalListener(spec.InternalName!)));
        return ValueTask.FromResult<IActiveListener>(new RegisteredInternalListener(registry, registration, Task.CompletedTask));
    }
}
