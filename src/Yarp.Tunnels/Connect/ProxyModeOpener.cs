using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Tunneling;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// <c>Mode: Proxy</c>: forwards the CONNECT to the destination YARP picked, itself a proxy, with the tunnelling openers
/// (<see cref="ITunnelOpener"/>): <c>CONNECT host:port HTTP/1.1</c>, or a classic HTTP/2 CONNECT when the cluster's
/// <c>HttpRequest</c> asks for exactly HTTP/2. A refusing answer goes back to the client with its status and headers
/// (its <c>Proxy-Status</c> among them); an upstream proxy that cannot be reached is the gateway's own 502 or 504.
/// </summary>
internal sealed class ProxyModeOpener(TcpProxyServices services) : IConnectUpstreamOpener
{
    // Hop-by-hop and framing headers of the upstream's answer: they describe that connection, not the client's.
    private static readonly HashSet<string> NotRelayed = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Content-Length", "Upgrade", "TE", "Trailer",
    };

    public async ValueTask<ConnectUpstreamResult> OpenAsync(ConnectContext context, CancellationToken cancellationToken)
    {
        if (context.Destination is not { } destination)
        {
            return ConnectUpstreamResult.Failed(StatusCodes.Status503ServiceUnavailable, "destination_unavailable",
                $"cluster {context.Cluster.ClusterId} has no available upstream proxy");
        }
        var protocol = UpstreamProtocol(context.Cluster);
        if (services.Services.GetKeyedService<ITunnelOpener>(protocol) is not { } opener)
        {
            return ConnectUpstreamResult.Failed(StatusCodes.Status502BadGateway, "proxy_internal_error",
                $"cluster {context.Cluster.ClusterId} asks for {protocol} upstream proxies, which this version cannot open");
        }
        var request = new UpstreamRequest(context.Cluster.ClusterId, context.Cluster, destination, destination.Model.Config.Address,
            context.Settings.ConnectTimeout, context.HttpContext.Features);
        var head = new TunnelHead(HttpMethods.Connect, context.Target.Authority, Path: null, Protocol: null, Headers: []);

        var started = services.TimeProvider.GetTimestamp();
        var result = await opener.OpenAsync(request, head, TunnelTransportOptions.For(request), cancellationToken).ConfigureAwait(false);
        var address = Sanitize(request.Address);
        return result switch
        {
            { Stream: { } stream } => ConnectUpstreamResult.Connected(stream, Relayed(result.ResponseHeaders)),
            { Failure: TunnelFailure.Status } => ConnectUpstreamResult.Failed(result.Status, null,
                $"the upstream proxy {address} answered {result.Status}", Relayed(result.ResponseHeaders)),
            { Failure: TunnelFailure.Connect } when services.TimeProvider.GetElapsedTime(started) >= request.ConnectTimeout =>
                ConnectUpstreamResult.Failed(StatusCodes.Status504GatewayTimeout, "connection_timeout",
                    $"the upstream proxy {address} did not establish the tunnel within {request.ConnectTimeout}"),
            { Failure: TunnelFailure.Connect } => ConnectUpstreamResult.Failed(StatusCodes.Status502BadGateway, "connection_refused",
                $"the upstream proxy {address} could not be reached: {Sanitize(result.Reason)}"),
            { Failure: TunnelFailure.Reset } => ConnectUpstreamResult.Failed(StatusCodes.Status502BadGateway, "connection_terminated",
                $"the upstream proxy {address} closed the connection before answering"),
            _ => ConnectUpstreamResult.Failed(StatusCodes.Status502BadGateway, "http_protocol_error",
                $"the upstream proxy {address} sent a malformed answer: {Sanitize(result.Reason)}"),
        };
    }

    /// <summary>HTTP/2 when the cluster asks for exactly HTTP/2 or higher (<c>HttpRequest:Version</c> 2 with <c>RequestVersionExact</c> or <c>RequestVersionOrHigher</c>); HTTP/1.1 otherwise.</summary>
    internal static TunnelProtocol UpstreamProtocol(ClusterState cluster) =>
        cluster.Model.Config.HttpRequest is { Version.Major: >= 2, VersionPolicy: HttpVersionPolicy.RequestVersionExact or HttpVersionPolicy.RequestVersionOrHigher }
            ? TunnelProtocol.Http2
            : TunnelProtocol.Http1;

    private static List<KeyValuePair<string, string>> Relayed(IReadOnlyList<KeyValuePair<string, string>> headers) =>
        [.. headers.Where(h => !NotRelayed.Contains(h.Key))];

    // Proxy-Status details are a quoted string: no quotes or backslashes.
    private static string Sanitize(string? text) => (text ?? "").Replace('"', '\'').Replace('\\', '/');
}
