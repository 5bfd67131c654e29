using System.Net;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Configuration;

/// <summary>TCP proxy socket listeners: a socket of our own (no HTTP stack), relaying each connection.</summary>
internal sealed class SocketTcpProxyListenerHandler(TcpProxyServices services, TunnelMetrics metrics, ILogger<SocketTcpProxyListenerHandler> logger) : IListenerHandler
{
    public ListenerKind Kind => ListenerKind.SocketTcpProxy;

    public ValueTask<IActiveListener> StartAsync(ListenerSpec spec, CancellationToken cancellationToken)
    {
        var handler = new TcpProxyHandler(spec.Name, spec.Config.TcpProxy!, services);
        var listener = new SocketTcpListener(spec.SocketEndPoint!, handler, metrics.Listener(spec.Name), services.TimeProvider, logger);
        return ValueTask.FromResult<IActiveListener>(new Active(listener));
    }

    private sealed class Active(SocketTcpListener listener) : IActiveListener
    {
        public IReadOnlyList<EndPoint> EndPoints { get; } = [listener.EndPoint];

        public bool IsReady => true;

        public async Task DrainAsync(TimeSpan timeout, CancellationToken abort)
        {
            var drain = listener.StopAsync(timeout);
            // Stopping again with no drain time resets what is left, which ends the first drain too.
            using var registration = abort.Register(() => _ = listener.StopAsync(TimeSpan.Zero));
            await drain.ConfigureAwait(false);
        }

        public Task StopAsync(CancellationToken cancellationToken) => listener.StopAsync(TimeSpan.Zero);
    }
}
