using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Upgrades;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// The endpoint of a plain CONNECT that matched no route (Envoy answers 404 there): the same 403 with
/// <c>Proxy-Status</c> as a route without CONNECT, counted in <c>downstream_rq_ws_on_non_ws_route</c>, on HTTP/1.1 and
/// HTTP/2 alike. Ordered last, so any route that matches the CONNECT wins.
/// </summary>
internal static partial class ConnectFallback
{
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.Map("/{**path}", HandleAsync)
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Connect]))
            .WithOrder(int.MaxValue)
            .WithDisplayName("Yarp.Tunnels: CONNECT without a route");

    private static Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        if (ConnectRequest.FindProblem(context) is { } problem)
        {
            return ConnectResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "http_request_error", problem);
        }
        var authority = ConnectRequest.AuthorityOf(context, isPost: false);
        if (!ConnectTarget.TryParse(authority, out _))
        {
            return ConnectResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "http_request_error", $"the CONNECT target '{authority}' is not host:port");
        }
        services.GetRequiredService<TunnelMetrics>().Scope(StatNames.HttpFamily, HttpStatPrefix.Of(context.Features))[StatNames.DownstreamRqWsOnNonWsRoute].Increment();
        Log.NoRoute(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConnectFallback).FullName!), authority!);
        return UpgradePolicyMiddleware.RefuseAsync(context, UpgradeRequest.ConnectType, UpgradeRequestKind.Connect);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ConnectRefusedNoRoute, LogLevel.Debug, "CONNECT to '{Target}' refused: no route matches it.")]
        public static partial void NoRoute(ILogger logger, string target);
    }
}
