using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Upgrades;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// The CONNECT terminal step of the proxy pipeline (after the upgrade policy, chains, the user's steps and load
/// balancing; before YARP's forwarder, which would answer CONNECT with 502). For a CONNECT the policy allowed, or a POST
/// on a route with <c>AllowPost</c>: authorizes it (the route's <c>AuthorizationPolicy</c>), opens the upstream with the
/// route's opener, answers 200 only once that succeeded (an error with <c>Proxy-Status</c> otherwise) and relays bytes
/// with <see cref="TcpRelay"/> until both directions ended.
/// </summary>
internal sealed partial class ConnectMiddleware(RequestDelegate next, UpgradePolicyManager policies, TerminateConnectOpener terminate, DecapsulatingOpener decapsulate, ProxyModeOpener proxyMode,
    TunnelMetrics metrics, TimeProvider timeProvider, ILogger<ConnectMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var upgrade = context.Features.Get<IUpgradeRequestFeature>();
        var proxy = context.Features.Get<IReverseProxyFeature>();
        if (proxy is null)
        {
            return next(context);
        }
        var isConnect = upgrade?.Kind == UpgradeRequestKind.Connect;
        // The route's settings only for what may tunnel: every other request of the proxy passes here too.
        if (!isConnect && (upgrade is not null || !HttpMethods.IsPost(context.Request.Method)))
        {
            return next(context);
        }
        var routeId = proxy.Route.Config.RouteId;
        var settings = policies.Current.ConnectOf(routeId);
        // Left: a CONNECT, or a POST, which tunnels only where the route allows it.
        return isConnect || settings.AllowPost
            ? TunnelAsync(context, proxy, routeId, settings, upgrade as UpgradeRequestFeature, isPost: !isConnect)
            : next(context);
    }

    private async Task TunnelAsync(HttpContext context, IReverseProxyFeature proxy, string routeId, ConnectRoute settings, UpgradeRequestFeature? upgrade, bool isPost)
    {
        if (!isPost && ConnectRequest.FindProblem(context) is { } problem)
        {
            Log.Malformed(logger, routeId, problem);
            await ConnectResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "http_request_error", problem).ConfigureAwait(false);
            return;
        }
        var authority = ConnectRequest.AuthorityOf(context, isPost);
        if (!ConnectTarget.TryParse(authority, out var target))
        {
            var reason = $"the CONNECT target '{authority}' is not host:port";
            Log.Malformed(logger, routeId, reason);
            await ConnectResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "http_request_error", reason).ConfigureAwait(false);
            return;
        }
        if (settings.Policy.AuthorizationPolicy is { } policyName && !await AuthorizeAsync(context, policyName, routeId).ConfigureAwait(false))
        {
            return;
        }

        var cluster = proxy.Cluster;
        DestinationState? destination = null;
        if (!OriginalDestination.IsDeclared(cluster.Config))
        {
            var available = proxy.AvailableDestinations;
            if (available.Count == 0)
            {
                await FailAsync(context, routeId, target, ConnectUpstreamResult.Failed(StatusCodes.Status503ServiceUnavailable, "destination_unavailable",
                    $"cluster '{cluster.Config.ClusterId}' has no available destination")).ConfigureAwait(false);
                return;
            }
            // As YARP's forwarder: load balancing left one destination; a random one if it did not run.
            destination = available.Count == 1 ? available[0] : available[Random.Shared.Next(available.Count)];
            proxy.ProxiedDestination = destination;
        }

        var http1Connect = !isPost && upgrade?.Kind == UpgradeRequestKind.Connect && !HttpProtocol.IsHttp2(context.Request.Protocol)
            && !HttpProtocol.IsHttp3(context.Request.Protocol);
        var shim = http1Connect ? context.Features.Get<IHttp1ConnectFeature>() : null;
        if (http1Connect && shim is null)
        {
            Log.NoShim(logger, routeId);
            await ConnectResponses.WriteErrorAsync(context, StatusCodes.Status501NotImplemented, "http_protocol_error",
                "HTTP/1.1 CONNECT needs the Yarp.Tunnels connection shim on this endpoint (declare it in ReverseProxy:Listeners, or call ListenOptions.UseTunnelsConnect())").ConfigureAwait(false);
            return;
        }
        var opener = OpenerFor(settings);

        var connectContext = new ConnectContext
        {
            HttpContext = context,
            RouteId = routeId,
            Settings = settings,
            Cluster = GetClusterState(proxy),
            Destination = destination,
            Target = target,
            IsPost = isPost,
        };
        var started = timeProvider.GetTimestamp();
        ConnectUpstreamResult result;
        try
        {
            result = await opener.OpenAsync(connectContext, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        if (result.Upstream is not { } upstream)
        {
            await FailAsync(context, routeId, target, result).ConfigureAwait(false);
            return;
        }

        await using (upstream.ConfigureAwait(false))
        {
            RelayEnd downstream;
            try
            {
                downstream = await AcceptAsync(context, upgrade, shim, isPost).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
            {
                Log.AcceptFailed(logger, routeId, target.Authority, ex);
                upstream.Abort();
                return;
            }
            await RelayAsync(context, routeId, target, upgrade, isPost, shim is not null, downstream, upstream, started).ConfigureAwait(false);
        }
    }

    private static ClusterState GetClusterState(IReverseProxyFeature proxy) =>
        proxy.Route.Cluster ?? throw new InvalidOperationException($"Route '{proxy.Route.Config.RouteId}' has no cluster.");

    private IConnectUpstreamOpener OpenerFor(ConnectRoute settings) => settings switch
    {
        { Decapsulate: true } => decapsulate,
        { Mode: ConnectMode.Proxy } => proxyMode,
        _ => terminate,
    };

    /// <summary>Answers the client: the CONNECT succeeded. HTTP/1.1 takes the raw connection over; HTTP/2 and POST use the request and response bodies.</summary>
    private static async Task<RelayEnd> AcceptAsync(HttpContext context, UpgradeRequestFeature? upgrade, IHttp1ConnectFeature? shim, bool isPost)
    {
        if (shim is not null)
        {
            var end = await shim.DetachAsync().ConfigureAwait(false);
            var version = HttpProtocol.IsHttp10(context.Request.Protocol) ? "1.0" : "1.1";
            var reply = Encoding.ASCII.GetBytes($"HTTP/{version} 200 Connection established\r\n\r\n");
            await end.WriteAsync(reply, context.RequestAborted).ConfigureAwait(false);
            return end;
        }
        if (!isPost && context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } extended)
        {
            // :protocol bytestream: Kestrel gives the stream only through AcceptAsync.
            context.Response.StatusCode = StatusCodes.Status200OK;
            var stream = await extended.AcceptAsync().ConfigureAwait(false);
            return UpgradedStreamRelayEnd.Create(stream, () => _ = context.Response.CompleteAsync(), context.Abort);
        }
        return await HttpBodyRelayEnd.AcceptAsync(context).ConfigureAwait(false);
    }

    private async Task RelayAsync(HttpContext context, string routeId, ConnectTarget target, UpgradeRequestFeature? upgrade, bool isPost, bool http1,
        RelayEnd downstream, RelayEnd upstream, long started)
    {
        var stats = metrics.Scope(StatNames.HttpFamily, HttpStatPrefix.Of(context.Features));
        var routeStats = stats.WithTag(StatNames.RouteIdTag, routeId);
        Activity? activity = null;
        var owned = false;
        if (upgrade?.Session is { } session && session.Establish(out activity))
        {
            owned = true;
        }
        else
        {
            activity = TunnelsActivitySource.Instance.StartActivity("Yarp.Tunnels.Connect", ActivityKind.Internal);
        }
        activity?.SetTag("yarp.tunnels.connect.target", target.Authority);
        activity?.SetTag("yarp.tunnels.connect.post", isPost);
        routeStats[StatNames.ConnectTunnelsTotal].Increment();
        routeStats[StatNames.ConnectTunnelsActive].Increment();
        Log.Established(logger, routeId, target.Authority, isPost ? "POST" : "CONNECT", context.Request.Protocol);

        var counters = new RelayCounters(stats[StatNames.DownstreamCxRxBytesTotal], stats[StatNames.DownstreamCxTxBytesTotal], null, null);
        var counted = new CountingRelayEnd(downstream);
        var relay = new TcpRelay(counted, upstream, counters, upgrade?.IdleTimeout ?? Timeout.InfiniteTimeSpan, timeProvider);
        // An HTTP/2 client's RST_STREAM after its END_STREAM reaches no read any more; HTTP/1.1 tunnels see resets on the transport.
        var clientReset = http1 ? default : context.RequestAborted.UnsafeRegister(static state => ((TcpRelay)state!).Abort(), relay);
        try
        {
            await relay.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            await clientReset.DisposeAsync().ConfigureAwait(false);
            await downstream.DisposeAsync().ConfigureAwait(false);
            routeStats[StatNames.ConnectTunnelsActive].Decrement();
            var duration = timeProvider.GetElapsedTime(started);
            var outcome = relay.TimedOut ? "idle timeout" : "closed";
            activity?.SetTag("yarp.tunnels.connect.outcome", outcome);
            activity?.SetTag("yarp.tunnels.connect.rx_bytes", counted.Received);
            activity?.SetTag("yarp.tunnels.connect.tx_bytes", counted.Sent);
            Log.Closed(logger, routeId, target.Authority, outcome, counted.Received, counted.Sent, duration.TotalMilliseconds);
            if (owned)
            {
                upgrade!.Session!.End();
            }
            else
            {
                activity?.Dispose();
            }
            if (http1)
            {
                // The tunnel owned the connection: Kestrel must write nothing more on it.
                context.Abort();
            }
        }
    }

    private async Task<bool> AuthorizeAsync(HttpContext context, string policyName, string routeId)
    {
        var services = context.RequestServices;
        var provider = services.GetService<IAuthorizationPolicyProvider>();
        var evaluator = services.GetService<IPolicyEvaluator>();
        var policy = provider is null ? null : await provider.GetPolicyAsync(policyName).ConfigureAwait(false);
        if (policy is null || evaluator is null)
        {
            Log.PolicyMissing(logger, routeId, policyName);
            await ConnectResponses.WriteErrorAsync(context, StatusCodes.Status500InternalServerError, "proxy_configuration_error",
                $"authorization policy '{policyName}' is not registered").ConfigureAwait(false);
            return false;
        }
        var authentication = await evaluator.AuthenticateAsync(policy, context).ConfigureAwait(false);
        var authorization = await evaluator.AuthorizeAsync(policy, authentication, context, resource: null).ConfigureAwait(false);
        if (authorization.Succeeded)
        {
            return true;
        }
        Log.Unauthorized(logger, routeId, authorization.Challenged ? "no valid credentials" : "the policy refused the client");
        if (authorization.Challenged)
        {
            // The schemes' challenge answers (ProxyBasic: 407 + Proxy-Authenticate).
            if (policy.AuthenticationSchemes.Count == 0)
            {
                await context.ChallengeAsync().ConfigureAwait(false);
            }
            foreach (var scheme in policy.AuthenticationSchemes)
            {
                await context.ChallengeAsync(scheme).ConfigureAwait(false);
            }
            if (!HttpProtocol.IsHttp2(context.Request.Protocol))
            {
                context.Response.Headers.Connection = "close";
            }
            return false;
        }
        await ConnectResponses.WriteErrorAsync(context, StatusCodes.Status403Forbidden, "http_request_denied", "the client is not authorized to open this tunnel").ConfigureAwait(false);
        return false;
    }

    private Task FailAsync(HttpContext context, string routeId, ConnectTarget target, ConnectUpstreamResult result)
    {
        Log.Failed(logger, routeId, target.Authority, result.StatusCode, result.ProxyStatusError, result.Details);
        return ConnectResponses.WriteErrorAsync(context, result.StatusCode, result.ProxyStatusError, result.Details ?? "", result.ResponseHeaders);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ConnectEstablished, LogLevel.Debug, "CONNECT tunnel of route '{RouteId}' to '{Target}' established ({Method} over {Protocol}).")]
        public static partial void Established(ILogger logger, string routeId, string target, string method, string protocol);

        [LoggerMessage(EventIds.ConnectClosed, LogLevel.Debug, "CONNECT tunnel of route '{RouteId}' to '{Target}' {Outcome}: {ReceivedBytes} bytes from the client, {SentBytes} to it, after {DurationMs} ms.")]
        public static partial void Closed(ILogger logger, string routeId, string target, string outcome, long receivedBytes, long sentBytes, double durationMs);

        [LoggerMessage(EventIds.ConnectFailed, LogLevel.Information, "CONNECT of route '{RouteId}' to '{Target}' answered {StatusCode} ({Error}): {Details}.")]
        public static partial void Failed(ILogger logger, string routeId, string target, int statusCode, string? error, string? details);

        [LoggerMessage(EventIds.ConnectMalformed, LogLevel.Debug, "Malformed CONNECT on route '{RouteId}': {Reason}.")]
        public static partial void Malformed(ILogger logger, string routeId, string reason);

        [LoggerMessage(EventIds.ConnectNoShim, LogLevel.Warning, "HTTP/1.1 CONNECT on route '{RouteId}' arrived on an endpoint without the Yarp.Tunnels connection shim; answered 501.")]
        public static partial void NoShim(ILogger logger, string routeId);

        [LoggerMessage(EventIds.ConnectAcceptFailed, LogLevel.Debug, "Answering the CONNECT of route '{RouteId}' to '{Target}' failed.")]
        public static partial void AcceptFailed(ILogger logger, string routeId, string target, Exception exception);

        [LoggerMessage(EventIds.ConnectPolicyMissing, LogLevel.Error, "Route '{RouteId}': the CONNECT authorization policy '{Policy}' is not registered (AddAuthorization(o => o.AddPolicy(…))).")]
        public static partial void PolicyMissing(ILogger logger, string routeId, string policy);

        [LoggerMessage(EventIds.ConnectUnauthorized, LogLevel.Debug, "CONNECT on route '{RouteId}' refused: {Reason}.")]
        public static partial void Unauthorized(ILogger logger, string routeId, string reason);
    }
}
