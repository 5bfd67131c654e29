using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// HTTP socket listeners: a socket bound with the socket transport whose connections a hidden endpoint of its
/// own, with the listener's protocols (and TLS), serves. Owning the socket lets a removed listener unbind at once and drain for its own
/// <c>DrainTimeout</c>, which Kestrel's endpoint reload (a fixed 5 s) cannot.
/// </summary>
internal sealed class SocketHttpListenerHandler(IEnumerable<IConnectionListenerFactory> transports, HiddenHttpEndpoints endpoints,
    TunnelMetrics metrics, IHostEnvironment environment, IOptions<SocketTransportOptions> socketOptions, ILogger<SocketHttpListenerHandler> logger, IMemoryPoolFactory<byte>? memoryPoolFactory = null) : IListenerHandler
{
    // Like Kestrel: the last registered transport that can bind the endpoint wins.
    private readonly IConnectionListenerFactory[] _transports = [.. transports.Reverse()];

    public ListenerKind Kind => ListenerKind.SocketHttp;

    public async ValueTask<IActiveListener> StartAsync(ListenerSpec spec, CancellationToken cancellationToken)
    {
        var endPoint = spec.SocketEndPoint!;
        var certificate = spec.Config.Certificate is { } config ? ListenerCertificateLoader.Load(spec.Name, config, environment.ContentRootPath) : null;
        var transport = _transports.FirstOrDefault(t => t is IConnectionListenerFactorySelector selector ? selector.CanBind(endPoint) : t is not InternalTransportFactory)
            ?? throw new InvalidOperationException($"Listener '{spec.Name}': no transport can bind {endPoint}.");
        IConnectionListener? listener = null;
        try
        {
            // Kestrel's own socket transport is replaced by ours (same options), whose sockets CONNECT tunnels can take over.
            listener = transport is SocketTransportFactory
                ? new SocketHttpConnectionListener(endPoint, socketOptions.Value, memoryPoolFactory)
                : await transport.BindAsync(endPoint, cancellationToken).ConfigureAwait(false);
            var endpoint = endpoints.AddListenerEndpoint(HttpProfile.For(spec.Protocols, certificate is not null));
            return new SocketHttpListener(listener, new HttpListenerFeature(spec.Name, spec.StatPrefix, certificate, spec.IsAdmin), endpoint, endpoints,
                metrics.Listener(spec.Name), logger);
        }
        catch
        {
            if (listener is not null)
            {
                await listener.DisposeAsync().ConfigureAwait(false);
            }
            certificate?.Dispose();
            throw;
        }
    }
}
