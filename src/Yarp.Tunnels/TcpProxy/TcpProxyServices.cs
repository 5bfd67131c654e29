using Microsoft.Extensions.Logging;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>What every TCP proxy handler of a host shares.</summary>
internal sealed class TcpProxyServices(InternalListenerRegistry registry, TunnelMetrics metrics, ClusterDestinationPicker picker, ILogger<TcpProxyHandler> logger,
    IServiceProvider services, TimeProvider? timeProvider = null)
{
    /// <summary>The host's services (the tunnel openers are keyed services).</summary>
    public IServiceProvider Services { get; } = services;

    public TunnelMetrics Metrics { get; } = metrics;

    public ClusterDestinationPicker Picker { get; } = picker;

    public ILogger Logger { get; } = logger;

    /// <summary>The clock of idle timeouts, connect timeouts and drains: <see cref="TimeProvider.System"/> unless the host registers one.</summary>
    public TimeProvider TimeProvider { get; } = timeProvider ?? TimeProvider.System;

    public UpstreamConnectors Connectors { get; } = new(registry, metrics, timeProvider ?? TimeProvider.System);
}
