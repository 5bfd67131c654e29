using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// Counts every request of the host in <c>http.&lt;prefix&gt;.*</c> (the prefix of the listener it arrived on, see
/// <see cref="HttpStatPrefix"/>): <c>downstream_rq_total</c> and <c>downstream_rq_active</c> on arrival,
/// <c>downstream_rq_&lt;N&gt;xx</c> just before the response headers are sent (so before the client can see them), and
/// <c>downstream_rq_time</c> once the app is done with the request. It runs first, before the app's own middleware.
/// </summary>
internal sealed class HttpStatsMiddleware(RequestDelegate next, TunnelMetrics metrics, TimeProvider timeProvider)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var scope = metrics.Scope(StatNames.HttpFamily, HttpStatPrefix.Of(context.Features));
        scope[StatNames.DownstreamRqTotal].Increment();
        var active = scope[StatNames.DownstreamRqActive];
        active.Increment();
        var started = timeProvider.GetTimestamp();
        context.Response.OnStarting(static state =>
        {
            var (response, scope) = ((HttpResponse, StatScope))state;
            if (response.StatusCode is >= 100 and <= 599)
            {
                scope[StatNames.ResponseCodeClass(StatNames.DownstreamRq, response.StatusCode)].Increment();
            }
            return Task.CompletedTask;
        }, (context.Response, scope));
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            active.Decrement();
            scope.Histogram(StatNames.DownstreamRqTime).Record(timeProvider.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
