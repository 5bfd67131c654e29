using Microsoft.Extensions.Logging;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>What every TCP proxy handler of a host shares.</summary>
internal sealed class TcpProxyServices(InternalListenerRegistry registry, TunnelMetrics metrics, ClusterDestinationPicker picker, ILogger<TcpProxyHandler> logger)
{
    public InternalListenerRegistry Registry { get; } = registry;

    public TunnelMetrics Metrics { get; } = metrics;

    public ClusterDestinationPicker Picker { get; } = picker;

    public ILogger Logger { get; } = logger;
}
