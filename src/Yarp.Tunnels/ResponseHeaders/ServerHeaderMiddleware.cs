using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Yarp.Tunnels.ResponseHeaders;

/// <summary>
/// Applies <c>ResponseHeaders:ServerName</c> / <c>ServerHeaderTransformation</c> to every response of the app,
/// proxied or answered locally, when its headers are sent (after YARP copied the upstream's <c>Server</c>).
/// </summary>
internal sealed class ServerHeaderMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ResponseHeadersManager _settings;
    // One callback per middleware, taking the context as its state: nothing is allocated per request for it.
    private readonly Func<object, Task> _apply;

    public ServerHeaderMiddleware(RequestDelegate next, ResponseHeadersManager settings)
    {
        _next = next;
        _settings = settings;
        _apply = Apply;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var config = _settings.Current;
        if (config.ServerName is not null && config.ServerTransformation != ServerHeaderTransformation.PassThrough)
        {
            context.Response.OnStarting(_apply, context);
        }
        return _next(context);
    }

    private Task Apply(object state)
    {
        var config = _settings.Current;
        var headers = ((HttpContext)state).Response.Headers;
        if (config.ServerName is not null
            && (config.ServerTransformation == ServerHeaderTransformation.Overwrite
                || (config.ServerTransformation == ServerHeaderTransformation.AppendIfAbsent && !headers.ContainsKey(HeaderNames.Server))))
        {
            headers.Server = config.ServerName;
        }
        return Task.CompletedTask;
    }
}
