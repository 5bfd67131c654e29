using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// The first proxy-pipeline step: decides whether an upgrade request (H1 Upgrade, H2 extended CONNECT, CONNECT) is
/// allowed on the matched route. A refused one gets 403 with a short reason (plus <c>Proxy-Status</c> for CONNECT), and
/// on HTTP/1.x <c>Connection: close</c>, so bytes sent after the refused upgrade are never parsed as another request
/// (request smuggling); the same goes for an allowed HTTP/1.x upgrade that is answered without switching protocols.
/// An allowed one gets its <see cref="IUpgradeRequestFeature"/> and counting upgrade features.
/// </summary>
internal sealed partial class UpgradePolicyMiddleware(RequestDelegate next, UpgradePolicyManager policies, TunnelMetrics metrics,
    TimeProvider timeProvider, ILogger<UpgradePolicyMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!UpgradeRequest.TryDetect(context, out var upgradeType, out var kind))
        {
            return next(context);
        }

        var routeId = context.Features.Get<IReverseProxyFeature>()?.Route.Config.RouteId;
        var decision = policies.Current.Decide(routeId, upgradeType);
        var stats = metrics.Scope(StatNames.HttpFamily, HttpStatPrefix.Of(context.Features));
        if (!decision.Allowed)
        {
            stats[StatNames.DownstreamRqWsOnNonWsRoute].Increment();
            Log.Refused(logger, upgradeType, routeId);
            return RefuseAsync(context, upgradeType, kind);
        }
        return ProceedAsync(context, new UpgradeRequestFeature(upgradeType, kind, decision), routeId, stats);
    }

    private async Task ProceedAsync(HttpContext context, UpgradeRequestFeature request, string? routeId, StatScope stats)
    {
        var tag = request.Kind == UpgradeRequestKind.Connect ? UpgradeRequest.ConnectType : request.UpgradeType.ToLowerInvariant();
        var session = new UpgradeSession(context, stats.WithTag(StatNames.UpgradeTypeTag, tag), request, routeId, timeProvider, logger);
        request.Session = session;
        var features = context.Features;
        features.Set<IUpgradeRequestFeature>(request);
        if (features.Get<IHttpUpgradeFeature>() is { } upgrade)
        {
            features.Set<IHttpUpgradeFeature>(new TrackingUpgradeFeature(upgrade, session));
        }
        if (features.Get<IHttpExtendedConnectFeature>() is { } connect)
        {
            features.Set<IHttpExtendedConnectFeature>(new TrackingExtendedConnectFeature(connect, session));
        }
        if (IsHttp1(context))
        {
            context.Response.OnStarting(static state => CloseUnlessUpgraded((HttpContext)state), context);
        }
        try
        {
            await next(context);
        }
        finally
        {
            session.End();
        }
    }

    /// <summary>The refusal of an upgrade the policy does not allow; also the CONNECT step's answer to a CONNECT that matched no route.</summary>
    internal static Task RefuseAsync(HttpContext context, string upgradeType, UpgradeRequestKind kind)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status403Forbidden;
        if (IsHttp1(context))
        {
            response.Headers.Connection = "close";
        }
        string reason;
        if (kind == UpgradeRequestKind.Connect)
        {
            reason = "CONNECT is not allowed on this route.";
            response.Headers[ProxyStatus.HeaderName] = ProxyStatus.Format("http_request_denied", "CONNECT is not allowed on this route");
        }
        else
        {
            reason = $"Upgrade '{upgradeType}' is not allowed on this route.";
        }
        var body = Encoding.UTF8.GetBytes(reason + "\n");
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static bool IsHttp1(HttpContext context) =>
        HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol);

    /// <summary>
    /// An HTTP/1.x upgrade answered with anything but 101 (or a CONNECT with anything but 2xx) leaves bytes on the
    /// connection that the client may have sent for the upgraded protocol: close after the reply, as Envoy does.
    /// </summary>
    private static Task CloseUnlessUpgraded(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var established = status == StatusCodes.Status101SwitchingProtocols
            || (HttpMethods.IsConnect(context.Request.Method) && status is >= 200 and < 300);
        if (!established)
        {
            context.Response.Headers.Connection = "close";
        }
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.UpgradePolicyRefused, LogLevel.Debug, "Upgrade '{UpgradeType}' refused on route '{RouteId}': not allowed by the upgrade configuration.")]
        public static partial void Refused(ILogger logger, string upgradeType, string? routeId);
    }
}
