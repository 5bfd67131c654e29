using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// Before routing: an HTTP/1.0 CONNECT may come without <c>Host</c> (socat sends none), and Kestrel then leaves it empty;
/// routes match CONNECT on its target, so the target becomes the request's <c>Host</c>.
/// </summary>
internal sealed class ConnectHostStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(static (context, nextStep) =>
        {
            var request = context.Request;
            if (!request.Host.HasValue && HttpMethods.IsConnect(request.Method)
                && context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target && !target.StartsWith('/'))
            {
                request.Host = new HostString(target);
            }
            return nextStep(context);
        });
        next(app);
    };
}
