using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Connect;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// The proxy-pipeline step that forwards upgrades: every token YARP's forwarder cannot (anything but <c>websocket</c>
/// and <c>SPDY/*</c>), over HTTP/1.1 Upgrade or HTTP/2 extended CONNECT on either side, and every HTTP/1.1 Upgrade to a
/// plain <c>http://</c> destination, WebSockets from HTTP/1.1 clients included. Other WebSockets and plain CONNECT go on
/// to the next step (YARP's forwarder, the CONNECT handling). It sends the upgrade to the destination load balancing
/// chose: an HTTP/1.1 Upgrade to an <c>http://</c> destination on a connection of its own (<see cref="Http1UpgradeExchange"/>,
/// so once the backend switched the relay moves the connection's bytes with no HTTP client or stream copier in
/// between), anything else through the cluster's HTTP client (so envoy-internal and https destinations work). It
/// accepts the client's upgrade only once the backend accepted (101, or 200 to an extended CONNECT) and relays the bytes
/// both ways with <see cref="TcpRelay"/>; any other answer is relayed as a normal response. Malformed upgrade requests
/// (<see cref="UpgradeForwarderHandshake"/>) are answered with a 4xx before anything is forwarded.
/// </summary>
internal sealed partial class UpgradeForwarderMiddleware
{
    private static readonly TimeSpan DefaultActivityTimeout = TimeSpan.FromSeconds(100);

    private readonly RequestDelegate _next;
    private readonly TunnelMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly UpstreamConnectors _connectors;
    private readonly ILogger _logger;

    public UpgradeForwarderMiddleware(RequestDelegate next, TunnelMetrics metrics, TimeProvider timeProvider, TcpProxyServices tcpProxy,
        ILogger<UpgradeForwarderMiddleware> logger)
    {
        _next = next;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _connectors = tcpProxy.Connectors;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var upgrade = context.Features.Get<IUpgradeRequestFeature>();
        if (UpgradeForwarderHandshake.FindProblem(context, upgrade) is var (status, reason))
        {
            return RejectAsync(context, upgrade, status, reason);
        }
        return upgrade is null || upgrade.Kind == UpgradeRequestKind.Connect
            ? _next(context)
            : ForwardAsync(context, upgrade);
    }

    private Task RejectAsync(HttpContext context, IUpgradeRequestFeature? upgrade, int status, string reason)
    {
        Log.Malformed(_logger, reason);
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status426UpgradeRequired)
        {
            context.Response.Headers.SecWebSocketVersion = UpgradeForwarderHandshake.WebSocketVersion;
        }
        if (upgrade is null && !HttpProtocol.IsHttp2(context.Request.Protocol))
        {
            // Not an upgrade for the policy (which closes refused HTTP/1.x upgrades itself), but Kestrel's upgradable
            // request: the client may already have sent bytes for the upgraded stream; never parse them as a request.
            context.Response.Headers.Connection = "close";
        }
        var body = Encoding.UTF8.GetBytes(reason);
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>YARP forwards WebSockets (HTTP/1.1 and RFC 8441, both ways) and HTTP/1.1 SPDY itself.</summary>
    private static bool IsProxiedByYarp(IUpgradeRequestFeature upgrade) =>
        string.Equals(upgrade.UpgradeType, "websocket", StringComparison.OrdinalIgnoreCase)
        || (upgrade.Kind == UpgradeRequestKind.Http1Upgrade && upgrade.UpgradeType.StartsWith("SPDY/", StringComparison.OrdinalIgnoreCase));

    private async Task ForwardAsync(HttpContext context, IUpgradeRequestFeature upgrade)
    {
        var proxy = context.Features.GetRequiredFeature<IReverseProxyFeature>();
        var cluster = proxy.Cluster;
        var destinations = proxy.AvailableDestinations;
        if (destinations.Count == 0 && IsProxiedByYarp(upgrade))
        {
            await _next(context).ConfigureAwait(false);
            return;
        }
        if (destinations.Count == 0)
        {
            Log.NoDestination(_logger, upgrade.UpgradeType, cluster.Config.ClusterId);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Features.Set<IForwarderErrorFeature>(new UpgradeForwarderError(ForwarderError.NoAvailableDestinations, null));
            return;
        }
        // As YARP's forwarder: load balancing left one destination; a random one if it did not run.
        var destination = destinations.Count == 1 ? destinations[0] : destinations[Random.Shared.Next(destinations.Count)];
        var prefix = destination.Model.Config.Address;
        var config = cluster.Config.HttpRequest;
        var formAllowed = UpgradeForwarderRequest.TryChooseForm(config, prefix, out var form, out var mayDowngrade);
        // An HTTP/1.1 Upgrade to a plain http:// destination goes on a connection of our own. (An HTTP/2 client's
        // WebSocket to an HTTP/1.1 backend needs the RFC 6455 key and accept YARP adds and checks: YARP's, like the rest.)
        var ownConnection = formAllowed && form == UpgradeForwardingForm.Http1Upgrade
            && prefix.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            && (upgrade.Kind == UpgradeRequestKind.Http1Upgrade || !string.Equals(upgrade.UpgradeType, "websocket", StringComparison.OrdinalIgnoreCase));
        if (IsProxiedByYarp(upgrade) && !ownConnection)
        {
            await _next(context).ConfigureAwait(false);
            return;
        }
        proxy.ProxiedDestination = destination;

        if (!formAllowed)
        {
            Fail(context, ForwarderError.Request, StatusCodes.Status502BadGateway, upgrade, prefix,
                new HttpRequestException("An outgoing HTTP/1.1 Upgrade is required to forward this upgrade, but the cluster's HttpVersionPolicy disallows HTTP/1.1."));
            return;
        }

        // SocketsHttpHandler keeps the token of SendAsync for the life of an upgraded HTTP/2 stream, and Kestrel signals
        // RequestAborted when an upgraded HTTP/1.1 client half-closes: the client's abort counts during the handshake only.
        using var handshake = new CancellationTokenSource(config?.ActivityTimeout ?? DefaultActivityTimeout, _timeProvider);
        var clientAborted = context.RequestAborted.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), handshake);
        var transformer = proxy.Route.Transformer;
        HttpRequestMessage? request = null;
        HttpResponseMessage response;
        Http1UpgradeConnection? own = null;
        try
        {
            request = await UpgradeForwarderRequest.CreateAsync(context, upgrade, form, prefix, transformer, handshake.Token).ConfigureAwait(false);
            if (request is null)
            {
                return;
            }
            Log.Forwarding(_logger, upgrade.UpgradeType, form, prefix);
            if (ownConnection)
            {
                own = await ConnectAsync(proxy, destination, prefix, request, handshake.Token).ConfigureAwait(false);
                response = await own.SendAsync(request, handshake.Token).ConfigureAwait(false);
            }
            else try
            {
                response = await cluster.HttpClient.SendAsync(request, handshake.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (mayDowngrade && (ex.Data.Contains("SETTINGS_ENABLE_CONNECT_PROTOCOL") || ex.Data.Contains("HTTP2_ENABLED")))
            {
                // The backend has no extended CONNECT (or no HTTP/2): retry as HTTP/1.1, as YARP does for WebSockets.
                Log.Downgrading(_logger, upgrade.UpgradeType, prefix);
                request.Dispose();
                form = UpgradeForwardingForm.Http1Upgrade;
                request = await UpgradeForwarderRequest.CreateAsync(context, upgrade, form, prefix, transformer, handshake.Token).ConfigureAwait(false);
                if (request is null)
                {
                    return;
                }
                response = await cluster.HttpClient.SendAsync(request, handshake.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or NotSupportedException or ArgumentException
            or SocketException or ObjectDisposedException)
        {
            request?.Dispose();
            if (own is not null)
            {
                await own.DisposeAsync().ConfigureAwait(false);
            }
            var timedOut = handshake.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested;
            var canceled = context.RequestAborted.IsCancellationRequested;
            Fail(context, timedOut ? ForwarderError.RequestTimedOut : canceled ? ForwarderError.RequestCanceled : ForwarderError.Request,
                timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway, upgrade, prefix, ex);
            return;
        }
        finally
        {
            await clientAborted.DisposeAsync().ConfigureAwait(false);
        }
        // The handshake is over: the relay has no deadline of its own (idle timeouts apply to the upgraded stream), except
        // for the WebSockets and SPDY YARP would have forwarded, which keep YARP's: the activity timeout as an idle timeout.
        handshake.CancelAfter(Timeout.InfiniteTimeSpan);
        var relayIdleTimeout = IsProxiedByYarp(upgrade) ? config?.ActivityTimeout ?? DefaultActivityTimeout : Timeout.InfiniteTimeSpan;

        using (request)
        using (response)
        await using (own)
        {
            var accepted = form == UpgradeForwardingForm.Http1Upgrade
                ? response.StatusCode == HttpStatusCode.SwitchingProtocols
                : response.StatusCode == HttpStatusCode.OK;
            if (!accepted)
            {
                await RelayRefusalAsync(context, upgrade, response, transformer).ConfigureAwait(false);
                return;
            }
            await RelayUpgradeAsync(context, upgrade, form, response, transformer, own, relayIdleTimeout).ConfigureAwait(false);
        }
    }

    /// <summary>Opens a connection of our own to a plain <c>http://</c> destination; the handshake's deadline bounds the connect.</summary>
    private async Task<Http1UpgradeConnection> ConnectAsync(IReverseProxyFeature proxy, DestinationState destination, string prefix, HttpRequestMessage request,
        CancellationToken cancellationToken)
    {
        var cluster = proxy.Route.Cluster ?? throw new InvalidOperationException("The route has no cluster.");
        var target = new UpstreamRequest(cluster.ClusterId, cluster, destination, prefix, Timeout.InfiniteTimeSpan);
        var opened = await _connectors.Select(target).ConnectAsync(target, cancellationToken).ConfigureAwait(false);
        if (opened.End is not { } connection)
        {
            throw new HttpRequestException($"Connecting to '{prefix}' failed: {opened.Reason}");
        }
        return new Http1UpgradeConnection(connection, new ClusterRequestStats(_metrics.Scope(StatNames.ClusterFamily, cluster.ClusterId)), request, _timeProvider, destination);
    }

    /// <summary>
    /// The backend did not switch (401, 426, a 200 to an HTTP/1.1 Upgrade…): its answer goes to the client as a normal
    /// response, the client's upgrade is never accepted, so none of its bytes reach the backend. On HTTP/1.1 the upgrade
    /// policy closes the connection after it, so bytes sent after the upgrade request are never parsed as a request.
    /// </summary>
    private async Task RelayRefusalAsync(HttpContext context, IUpgradeRequestFeature upgrade, HttpResponseMessage response, HttpTransformer transformer)
    {
        Log.Refused(_logger, upgrade.UpgradeType, (int)response.StatusCode);
        if (upgrade.Kind == UpgradeRequestKind.ExtendedConnect && response.IsSuccessStatusCode)
        {
            // A 2xx to an extended CONNECT means "established" (and Kestrel allows it no body): the client must not take a
            // backend that did not switch for one that did.
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            context.Response.Headers[ProxyStatus.HeaderName] =
                ProxyStatus.Format("http_protocol_error", $"the backend answered {(int)response.StatusCode} without switching protocols");
            return;
        }
        context.Response.StatusCode = (int)response.StatusCode;
        if (!await transformer.TransformResponseAsync(context, response, context.RequestAborted).ConfigureAwait(false))
        {
            return;
        }
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            await body.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            await transformer.TransformResponseTrailersAsync(context, response, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            context.Features.Set<IForwarderErrorFeature>(new UpgradeForwarderError(ForwarderError.ResponseBodyDestination, ex));
            context.Abort();
        }
    }

    /// <summary>
    /// The backend switched: accepts the client's upgrade with the backend's headers and relays both ways; the backend's
    /// side is <paramref name="own"/> when the upgrade went on a connection of our own, else the response's stream;
    /// both sides are reset after <paramref name="idleTimeout"/> without a byte either way (infinite: never).
    /// </summary>
    private async Task RelayUpgradeAsync(HttpContext context, IUpgradeRequestFeature upgrade, UpgradeForwardingForm form,
        HttpResponseMessage response, HttpTransformer transformer, Http1UpgradeConnection? own, TimeSpan idleTimeout)
    {
        var http1Client = upgrade.Kind == UpgradeRequestKind.Http1Upgrade;
        context.Response.StatusCode = http1Client ? StatusCodes.Status101SwitchingProtocols : StatusCodes.Status200OK;
        if (!await transformer.TransformResponseAsync(context, response, context.RequestAborted).ConfigureAwait(false))
        {
            // A response transform discarded the backend's answer: there is no stream to switch to.
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            return;
        }
        if (http1Client)
        {
            // Kestrel's UpgradeAsync adds Connection: Upgrade; the token is the backend's (HTTP/1.1) or the one asked for.
            context.Response.Headers.Upgrade = form == UpgradeForwardingForm.Http1Upgrade && response.Headers.TryGetValues(HeaderNames.Upgrade, out var tokens)
                ? string.Join(", ", tokens)
                : upgrade.UpgradeType;
        }

        Stream clientStream;
        Stream? backendStream = null;
        try
        {
            // SocketsHttpHandler's stream for a 101 is the raw connection; for a 200 to an extended CONNECT, the duplex stream.
            if (own is null)
            {
                backendStream = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            }
            clientStream = http1Client
                ? await context.Features.GetRequiredFeature<IHttpUpgradeFeature>().UpgradeAsync().ConfigureAwait(false)
                : await context.Features.GetRequiredFeature<IHttpExtendedConnectFeature>().AcceptAsync().ConfigureAwait(false);
            context.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException or HttpRequestException)
        {
            Log.AcceptFailed(_logger, upgrade.UpgradeType, ex);
            context.Features.Set<IForwarderErrorFeature>(new UpgradeForwarderError(ForwarderError.UpgradeResponseClient, ex));
            context.Abort();
            return;
        }

        // An HTTP/1.1 client on a plain socket of a Listeners listener, to a connection of our own: once Kestrel sent the
        // 101, both sockets are relayed as they are (spliced, each side's FIN passed on as a half-close), Kestrel's
        // upgraded stream left unread.
        if (http1Client && own is not null && context.Features.Get<IHttp1ConnectFeature>() is { IsPlainSocket: true } shim)
        {
            RelayEnd client;
            try
            {
                client = await shim.DetachAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                Log.AcceptFailed(_logger, upgrade.UpgradeType, ex);
                context.Abort();
                return;
            }
            await using (client.ConfigureAwait(false))
            {
                await RelayAsync(context, upgrade, client, own.SwitchedHalfClosing(), idleTimeout, abortOnClientReset: false).ConfigureAwait(false);
            }
            return;
        }

        // Half-close where the transport has one. Kestrel ends an HTTP/2 client's stream (END_STREAM) and keeps reading,
        // and SocketsHttpHandler has no half-close on a 101 or extended CONNECT stream (our own connection passes none on
        // either: SwitchedConnectionRelayEnd), so after an HTTP/2 client's END_STREAM the backend keeps its side until it
        // ends. An upgraded HTTP/1.1 client connection cannot half-close (and Kestrel closes it when the client
        // half-closes), so there either side's end ends the whole upgrade.
        await using var downstream = http1Client
            ? UpgradedStreamRelayEnd.EndOnShutdown(clientStream, context.Abort)
            : UpgradedStreamRelayEnd.Create(clientStream, () => _ = context.Response.CompleteAsync(), context.Abort);
        await using var upstream = own?.Switched(http1Client) ?? (http1Client
            ? UpgradedStreamRelayEnd.EndOnShutdown(backendStream!, response.Dispose)
            : UpgradedStreamRelayEnd.Create(backendStream!, shutdownWrite: null, response.Dispose));
        // An HTTP/2 client's RST_STREAM after its END_STREAM reaches no read any more, and a backend without a half-close
        // may never write again: without this the upgrade stayed open until the backend ended it. (Not on HTTP/1.1,
        // where Kestrel signals RequestAborted for the client's half-close, which ends the upgrade gracefully instead.)
        await RelayAsync(context, upgrade, downstream, upstream, idleTimeout, abortOnClientReset: !http1Client).ConfigureAwait(false);
    }

    /// <summary>Relays the upgraded bytes both ways, counted in the HTTP listener's scope.</summary>
    private async Task RelayAsync(HttpContext context, IUpgradeRequestFeature upgrade, RelayEnd downstream, RelayEnd upstream, TimeSpan idleTimeout,
        bool abortOnClientReset)
    {
        var stats = Stats(context);
        var counters = new RelayCounters(stats[StatNames.DownstreamCxRxBytesTotal], stats[StatNames.DownstreamCxTxBytesTotal], UpstreamReceived: null, UpstreamSent: null);
        var relay = new TcpRelay(downstream, upstream, counters, idleTimeout, _timeProvider);
        await using var clientReset = abortOnClientReset
            ? context.RequestAborted.UnsafeRegister(static state => ((TcpRelay)state!).Abort(), relay)
            : default;
        await relay.RunAsync().ConfigureAwait(false);
        Log.Ended(_logger, upgrade.UpgradeType);
    }

    /// <summary>The upgraded bytes count in the HTTP listener's scope (<c>http.&lt;prefix&gt;.downstream_cx_*_bytes_total</c>).</summary>
    private StatScope Stats(HttpContext context) =>
        _metrics.Scope(StatNames.HttpFamily, HttpStatPrefix.Of(context.Features));

    private void Fail(HttpContext context, ForwarderError error, int status, IUpgradeRequestFeature upgrade, string prefix, Exception ex)
    {
        Log.RequestFailed(_logger, upgrade.UpgradeType, prefix, error, ex);
        context.Features.Set<IForwarderErrorFeature>(new UpgradeForwarderError(error, ex));
        if (!context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.StatusCode = status;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.UpgradeForwarderForwarding, LogLevel.Debug, "Forwarding the '{UpgradeType}' upgrade as {Form} to '{Destination}'.")]
        public static partial void Forwarding(ILogger logger, string upgradeType, UpgradeForwardingForm form, string destination);

        [LoggerMessage(EventIds.UpgradeForwarderDowngrading, LogLevel.Debug, "'{Destination}' has no HTTP/2 extended CONNECT; retrying the '{UpgradeType}' upgrade as HTTP/1.1.")]
        public static partial void Downgrading(ILogger logger, string upgradeType, string destination);

        [LoggerMessage(EventIds.UpgradeForwarderNoDestination, LogLevel.Warning, "No available destination for the '{UpgradeType}' upgrade in cluster '{ClusterId}'.")]
        public static partial void NoDestination(ILogger logger, string upgradeType, string clusterId);

        [LoggerMessage(EventIds.UpgradeForwarderRequestFailed, LogLevel.Warning, "Forwarding the '{UpgradeType}' upgrade to '{Destination}' failed ({Error}).")]
        public static partial void RequestFailed(ILogger logger, string upgradeType, string destination, ForwarderError error, Exception exception);

        [LoggerMessage(EventIds.UpgradeForwarderRefused, LogLevel.Information, "The backend answered the '{UpgradeType}' upgrade with {StatusCode}; relayed as a normal response.")]
        public static partial void Refused(ILogger logger, string upgradeType, int statusCode);

        [LoggerMessage(EventIds.UpgradeForwarderAcceptFailed, LogLevel.Information, "Accepting the client's '{UpgradeType}' upgrade failed.")]
        public static partial void AcceptFailed(ILogger logger, string upgradeType, Exception exception);

        [LoggerMessage(EventIds.UpgradeForwarderMalformed, LogLevel.Debug, "Refused a malformed upgrade request: {Reason}.")]
        public static partial void Malformed(ILogger logger, string reason);

        [LoggerMessage(EventIds.UpgradeForwarderEnded, LogLevel.Debug, "The '{UpgradeType}' upgraded stream ended.")]
        public static partial void Ended(ILogger logger, string upgradeType);
    }
}
