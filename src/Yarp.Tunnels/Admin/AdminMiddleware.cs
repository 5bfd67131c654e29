using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Admin;

/// <summary>
/// Answers every request that arrived on the admin listener (and only those) with the admin endpoints, before the app's
/// middleware and routes, so an admin request never reaches the app and an app request never reaches the admin.
/// A request applies <c>Admin:AuthorizationPolicy</c> first; an unknown path is a 404, a known one with another method
/// a 405 with <c>Allow</c>.
/// </summary>
internal sealed partial class AdminMiddleware(RequestDelegate next, AdminEndpoints endpoints, ListenerManager listeners, ILogger<AdminMiddleware> logger)
{
    // Not async on the way through: every proxied request passes here, and an async step would add its state machine.
    public Task InvokeAsync(HttpContext context) =>
        context.Features.Get<IHttpListenerFeature>() is HttpListenerFeature { IsAdmin: true } ? AnswerAsync(context) : next(context);

    private async Task AnswerAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-cache, max-age=0";
        response.Headers.XContentTypeOptions = "nosniff";
        try
        {
            if (listeners.Admin?.AuthorizationPolicy is { } policy && !await AdminAuthorization.AuthorizeAsync(context, policy).ConfigureAwait(false))
            {
                return;
            }
            var path = context.Request.Path.Value ?? "/";
            if (!endpoints.TryGet(path, out var endpoint))
            {
                await AdminResponses.TextAsync(context, StatusCodes.Status404NotFound, $"No admin endpoint at '{path}'; GET / lists them.\n").ConfigureAwait(false);
                return;
            }
            if (!string.Equals(context.Request.Method, endpoint.Method, StringComparison.OrdinalIgnoreCase))
            {
                response.Headers.Allow = endpoint.Method;
                await AdminResponses.TextAsync(context, StatusCodes.Status405MethodNotAllowed, $"{endpoint.Path} answers {endpoint.Method} only.\n").ConfigureAwait(false);
                return;
            }
            await endpoint.Handle(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && !response.HasStarted)
        {
            Log.RequestFailed(logger, context.Request.Path.Value ?? "", ex);
            response.Clear();
            await AdminResponses.TextAsync(context, StatusCodes.Status500InternalServerError, $"The admin endpoint failed: {ex.Message}\n").ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.AdminRequestFailed, LogLevel.Error, "Admin: {Path} failed.")]
        public static partial void RequestFailed(ILogger logger, string path, Exception exception);
    }
}
