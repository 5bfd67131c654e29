using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Yarp.Tunnels.ResponseHeaders;

/// <summary>
/// Applies <c>ResponseHeaders:ServerName</c> / <c>ServerHeaderTransformation</c> to every response of the app,
/// proxied or answered locally, when its headers are sent (after YARP copied the upstream's <c>Server</c>).
/// </summary>
internal sealed class ServerHeaderMiddleware(RequestDelegate next, ResponseHeadersManager settings)
{
    private static readonly Func<object, Task> ApplyCallback = Apply;

    public Task InvokeAsync(HttpContext context)
    {
        if (settings.Current.ServerName is not null && settings.Current.ServerTransformation != ServerHeaderTransformation.PassThrough)
        {
            context.Response.OnStarting(ApplyCallback, (context, settings.Current));
        }
        return next(context);
    }

    private static Task Apply(object state)
    {
        var (context, config) = ((HttpContext, ResponseHeadersConfig))state;
        var headers = context.Response.Headers;
        if (config.ServerTransformation == ServerHeaderTransformation.Overwrite || !headers.ContainsKey(HeaderNames.Server))
        {
            headers.Server = config.ServerName;
        }
        return Task.CompletedTask;
    }
}
