using System.Collections.Concurrent;
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
    private static readonly Func<object, Task> CountResponse = static state =>
    {
        var (response, stats) = ((HttpResponse, HttpRequestStats))state;
        stats.CountResponse(response.StatusCode);
        return Task.CompletedTask;
    };

    // One entry per prefix (a handful): the per-request path does one lookup, not one per stat.
    private readonly ConcurrentDictionary<string, HttpRequestStats> _byPrefix = new(StringComparer.Ordinal);

    public async Task InvokeAsync(HttpContext context)
    {
        var prefix = HttpStatPrefix.Of(context.Features);
        if (!_byPrefix.TryGetValue(prefix, out var stats))
        {
            stats = _byPrefix.GetOrAdd(prefix, static (prefix, metrics) => new HttpRequestStats(metrics.Scope(StatNames.HttpFamily, prefix)), metrics);
        }
        stats.Total.Increment();
        stats.Active.Increment();
        var started = timeProvider.GetTimestamp();
        context.Response.OnStarting(CountResponse, (context.Response, stats));
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            stats.Active.Decrement();
            stats.Time.Record(timeProvider.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
