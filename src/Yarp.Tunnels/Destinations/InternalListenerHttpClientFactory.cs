using System.Net.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Destinations;

/// <summary>
/// YARP's HTTP client factory, extended so every cluster can reach envoy-internal destinations: forwarding,
/// active health probes and WebSockets all go through the client it builds. The client also counts the cluster's
/// upstream connections (and the protocol each negotiated) and forwarded requests (<see cref="ClusterRequestStats"/>).
/// </summary>
internal sealed class InternalListenerHttpClientFactory : ForwarderHttpClientFactory
{
    private readonly InternalListenerConnector _connector;
    private readonly TunnelMetrics _metrics;
    private readonly TimeProvider _timeProvider;

    public InternalListenerHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, InternalListenerConnector connector, TunnelMetrics metrics,
        TimeProvider timeProvider)
        : base(logger)
    {
        _connector = connector;
        _metrics = metrics;
        _timeProvider = timeProvider;
    }

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        var stats = Stats(context);
        handler.ConnectCallback = stats.CountConnections(_connector.ConnectAsync);
        handler.PlaintextStreamFilter = stats.CountProtocol;
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new UpstreamStatsHandler(new RewriteHandler(base.WrapHandler(context, handler), _connector, context.ClusterId), Stats(context), _timeProvider);

    private ClusterRequestStats Stats(ForwarderHttpClientContext context) => new(_metrics.Scope(StatNames.ClusterFamily, context.ClusterId));

    private sealed class RewriteHandler(HttpMessageHandler inner, InternalListenerConnector connector, string clusterId) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            connector.Rewrite(request, clusterId);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
