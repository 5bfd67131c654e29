using System.Net;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// Where <c>Decapsulate: true</c> tunnels go: an in-process connection to this host's hidden <c>Auto</c> HTTP endpoint
/// (HTTP/1.1 and h2c told apart by the HTTP/2 preface, Kestrel's limits and timeouts). A host with listeners has it
/// bound already; on another, the first tunnel has Kestrel bind it (and the shared HTTP/2 endpoint that serves sniffed
/// HTTP/2) from the projection. No listener is declared and no name is registered, so nothing else reaches it.
/// Each connection carries the tunnel's client and local addresses (inner requests see the client's
/// <c>RemoteIpAddress</c>), the listener identity of the connection the CONNECT arrived on (its <c>http.&lt;prefix&gt;</c>
/// statistics) and a <see cref="DecapsulatedTunnel"/>.
/// </summary>
internal sealed class DecapsulationEndpoint
{
    /// <summary>The <c>listener.&lt;name&gt;.*</c> scope of the decapsulated connections.</summary>
    public const string StatScopeName = "connect_decapsulate";

    private readonly HiddenHttpEndpoint _endpoint;
    private readonly HiddenHttpEndpoint _http2;
    private readonly KestrelEndpointProjection _projection;
    private readonly InternalListenerRegistration _registration;

    public DecapsulationEndpoint(HiddenHttpEndpoints endpoints, ListenerManager listeners, TunnelMetrics metrics)
    {
        _endpoint = endpoints.SharedFor(HttpProfile.Auto);
        _http2 = endpoints.SharedFor(HttpProfile.Http2);
        _projection = listeners.Projection;
        _registration = new InternalListenerRegistration(StatScopeName, InternalEndPoint.DefaultBufferSizeKb,
            new Acceptor(_endpoint), metrics.Listener(StatScopeName));
    }

    /// <summary>
    /// Opens the inner HTTP connection of one tunnel, once the hidden endpoints are bound; the CONNECT's bytes are relayed
    /// to the returned client end.
    /// </summary>
    /// <exception cref="OperationCanceledException">The endpoints were not bound before <paramref name="cancellationToken"/> fired.</exception>
    /// <exception cref="InternalListenerNotFoundException">The hidden endpoint was unbound (the host is stopping).</exception>
    /// <exception cref="InternalListenerBusyException">Too many decapsulated connections wait for Kestrel to accept them.</exception>
    public async ValueTask<InternalStream> OpenAsync(HttpContext context, string routeId, string authority, CancellationToken cancellationToken)
    {
        if (!_endpoint.TryGetAcceptor(out _) || !_http2.TryGetAcceptor(out _))
        {
            _projection.IncludeSharedEndpoints();
            await Task.WhenAll(_endpoint.Bound, _http2.Bound).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        var outer = context.Connection;
        var listener = context.Features.Get<IHttpListenerFeature>();
        var tunnel = new DecapsulatedTunnel(routeId, authority);
        return _registration.Connect(options: null, server =>
        {
            if (outer.RemoteIpAddress is { } remote)
            {
                server.RemoteEndPoint = new IPEndPoint(remote, outer.RemotePort);
            }
            if (outer.LocalIpAddress is { } local)
            {
                server.LocalEndPoint = new IPEndPoint(local, outer.LocalPort);
            }
            if (listener is not null)
            {
                server.Features.Set(listener);
            }
            server.Features.Set(tunnel);
        });
    }

    private sealed class Acceptor(HiddenHttpEndpoint endpoint) : IInternalConnectionAcceptor
    {
        public bool TryAccept(Microsoft.AspNetCore.Connections.ConnectionContext connection) =>
            endpoint.TryGetAcceptor(out var acceptor) && acceptor!.TryAccept(connection);
    }
}
