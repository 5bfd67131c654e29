using System.Net.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Yarp.Tunnels.Destinations;

/// <summary>
/// YARP's HTTP client factory, extended so every cluster can reach envoy-internal destinations: forwarding,
/// active health probes and WebSockets all go through the client it builds.
/// </summary>
internal sealed class InternalListenerHttpClientFactory : ForwarderHttpClientFactory
{
    private readonly InternalListenerConnector _connector;

    public InternalListenerHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, InternalListenerConnector connector)
        : base(logger)
    {
        _connector = connector;
    }

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectCallback = _connector.ConnectAsync;
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new RewriteHandler(base.WrapHandler(context, handler), _connector, context.ClusterId);

    private sealed class RewriteHandler(HttpMessageHandler inner, InternalListenerConnector connector, string clusterId) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            connector.Rewrite(request, clusterId);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
