using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Destinations;

/// <summary>
/// Turns YARP's 502 for a request whose envoy-internal destination is not bound into a 503 that says which
/// listener was missing (Envoy answers 503 for an internal connect failure), in a <c>Proxy-Status</c> header.
/// </summary>
internal sealed class InternalListenerErrorMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);

        if (context.Response.HasStarted
            || context.Features.Get<IForwarderErrorFeature>()?.Exception is not { } exception
            || Find(exception) is not { } missing)
        {
            return;
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers["Proxy-Status"] = $"yarp-tunnels; error=destination_unavailable; details=\"internal listener '{missing.ListenerName}' is not bound\"";
    }

    private static InternalListenerNotFoundException? Find(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is InternalListenerNotFoundException missing)
            {
                return missing;
            }
        }
        return null;
    }
}
