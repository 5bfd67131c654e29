using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.Tunnels.Connect;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Points Kestrel at the reloading projection and configures each hidden HTTP endpoint when Kestrel binds it: the
/// <c>http.&lt;prefix&gt;</c> connection stats, the HTTP/2 sniffer on <c>auto</c> (served by the <c>h2</c> endpoint's handler), TLS with the accepting listener's
/// certificate on the <c>tls-*</c> profiles, and the CONNECT shim on every profile that serves HTTP/1.1.
/// </summary>
internal sealed class TunnelsKestrelSetup(ListenerManager manager, HiddenHttpEndpoints endpoints, TunnelMetrics metrics, TimeProvider timeProvider,
    ILoggerFactory loggerFactory) : IConfigureOptions<KestrelServerOptions>
{
    public void Configure(KestrelServerOptions options)
    {
        var loader = options.Configure(manager.Projection.Configuration, reloadOnChange: true);
        // The sniffer reads Kestrel's limits from these options (the host's IOptions<KestrelServerOptions>) per connection.
        var sniffer = new ProtocolSniffer(options, timeProvider, loggerFactory.CreateLogger<ProtocolSniffer>());
        var connectionStats = new HttpConnectionStats(metrics);
        // Registered before Kestrel starts, for every name the projection may use; the endpoint is told by its pipe.
        foreach (var key in endpoints.AllKeys)
        {
            loader.Endpoint(KestrelEndpointProjection.EndpointName(key), endpoint =>
            {
                var listen = endpoint.ListenOptions;
                if (listen.EndPoint is not NamedPipeEndPoint pipe || !endpoints.TryGet(pipe.PipeName, out var hidden))
                {
                    return;
                }
                listen.Use(connectionStats.Use);
                if (hidden.Profile.Sniff)
                {
                    listen.Use(sniffer.Use);
                }
                if (hidden.Profile.Tls)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificateSelector = static (connection, _) =>
                            (connection?.Features.Get<IHttpListenerFeature>() as HttpListenerFeature)?.Certificate,
                    });
                }
                if (hidden.Profile.Protocols.HasFlag(HttpProtocols.Http1))
                {
                    // Under Kestrel's HTTP/1.1 parser (after TLS and the sniffer), so a CONNECT can take the connection over.
                    listen.Use(Http1ConnectShim.Use);
                }
                if (hidden == endpoints.SharedFor(HttpProfile.Http2))
                {
                    // Last on this endpoint, so it captures Kestrel's HTTP/2 handler itself for sniffed connections.
                    listen.Use(sniffer.CaptureHttp2);
                }
            });
        }
    }
}
