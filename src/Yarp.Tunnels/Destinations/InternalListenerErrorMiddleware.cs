using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Destinations;

/// <summary>
/// Turns YARP's 502 for a request whose envoy-internal destination is not bound, or is busy (its accept backlog full),
/// into a 503 that says which listener and why (Envoy answers 503 for an internal connect failure), in a
/// <c>Proxy-Status</c> header.
/// </summary>
internal sealed class InternalListenerErrorMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);

        if (context.Response.HasStarted
            || context.Features.Get<IForwarderErrorFeature>()?.Exception is not { } exception
            || ProxyStatus(exception) is not { } proxyStatus)
        {
            return;
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers["Proxy-Status"] = proxyStatus;
    }

    private static string? ProxyStatus(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            switch (exception)
            {
                case InternalListenerNotFoundException missing:
                    return $"yarp-tunnels; error=destination_unavailable; details=\"internal listener '{missing.ListenerName}' is not bound\"";
                case InternalListenerBusyException busy:
                    return $"yarp-tunnels; error=connection_limit_reached; details=\"internal listener '{busy.ListenerName}' is busy: its backlog of {busy.Backlog} connections waiting to be accepted is full\"";
            }
        }
        return null;
    }
}
