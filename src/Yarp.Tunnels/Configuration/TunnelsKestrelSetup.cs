using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Points Kestrel at the listener projection (reloading) and binds this host's hidden internal endpoints that serve
/// config-declared internal HTTP listeners and HTTP/2 connections sniffed on <c>Auto</c> ports.
/// </summary>
internal sealed class TunnelsKestrelSetup(ListenerManager manager, TimeProvider timeProvider, ILoggerFactory loggerFactory) : IConfigureOptions<KestrelServerOptions>
{
    public void Configure(KestrelServerOptions options)
    {
        if (!manager.HasListeners)
        {
            return;
        }

        var loader = options.Configure(manager.Projection.Configuration, reloadOnChange: true);

        // Bound even when only TCP proxy listeners are declared: they keep Kestrel from falling back to
        // http://localhost:5000, and HTTP listeners added by a later reload need them.
        // The sniffer reads Kestrel's limits from these options (the host's IOptions<KestrelServerOptions>) per connection.
        var sniffer = new ProtocolSniffer(options, timeProvider, loggerFactory.CreateLogger<ProtocolSniffer>());
        options.ListenInternal(manager.ProfileName("h1"), o => o.Protocols = HttpProtocols.Http1);
        options.ListenInternal(manager.ProfileName("h2"), o =>
        {
            o.Protocols = HttpProtocols.Http2;
            // Last on this endpoint, so it captures Kestrel's HTTP/2 handler itself for sniffed connections.
            o.Use(sniffer.CaptureHttp2);
        });
        options.ListenInternal(manager.ProfileName("auto"), o =>
        {
            o.Protocols = HttpProtocols.Http1;
            o.Use(sniffer.Use);
        });
        // Matched by endpoint name, not address: two listeners on port 0 share the address 127.0.0.1:0.
        manager.Projection.ConfigureEndpoint = name => loader.Endpoint(name, endpoint =>
        {
            var section = endpoint.ConfigSection;
            var listener = new HttpListenerFeature(section[KestrelEndpointProjection.ListenerNameKey]!, section[KestrelEndpointProjection.StatPrefixKey]!);
            endpoint.ListenOptions.Use(listener.Apply);
            // On TLS, ALPN chooses the protocol instead.
            if (!endpoint.IsHttps && endpoint.ConfigSection[KestrelEndpointProjection.ListenerProtocolsKey] == nameof(ListenerProtocols.Auto))
            {
                endpoint.ListenOptions.Use(sniffer.Use);
            }
        });
    }
}
