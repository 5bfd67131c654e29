using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Admin;

/// <summary>
/// <c>GET /stats</c> and <c>/stats/prometheus</c>: the host's statistics read at request time, as Envoy's text
/// (<c>name: value</c> lines), JSON (<c>?format=json</c>) or Prometheus (<c>?format=prometheus</c>), narrowed by
/// <c>?filter=REGEX</c> (matched anywhere in the flat name unless anchored) and <c>?usedonly</c>.
/// </summary>
internal sealed class StatsAdminHandler(TunnelMetrics metrics)
{
    private static readonly TimeSpan FilterTimeout = TimeSpan.FromMilliseconds(200);

    public const string PrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

    public Task HandleAsync(HttpContext context) => RenderAsync(context, context.Request.Query["format"].ToString());

    public Task HandlePrometheusAsync(HttpContext context) => RenderAsync(context, "prometheus");

    private async Task RenderAsync(HttpContext context, string format)
    {
        var query = context.Request.Query;
        Regex? filter = null;
        if (query["filter"].ToString() is { Length: > 0 } pattern)
        {
            try
            {
                filter = new Regex(pattern, RegexOptions.CultureInvariant, FilterTimeout);
            }
            catch (ArgumentException ex)
            {
                await AdminResponses.TextAsync(context, StatusCodes.Status400BadRequest, $"Invalid regex in filter: {ex.Message}\n").ConfigureAwait(false);
                return;
            }
        }
        var usedOnly = query.ContainsKey("usedonly");

        IEnumerable<StatSample> samples = metrics.Samples();
        if (usedOnly)
        {
            samples = samples.Where(static s => s.Used);
        }
        if (filter is not null)
        {
            samples = samples.Where(s => filter.IsMatch(s.FlatName));
        }

        try
        {
            switch (format)
            {
                case "" or "text":
                    await AdminResponses.TextAsync(context, StatusCodes.Status200OK, EnvoyStatsRenderer.RenderText(samples)).ConfigureAwait(false);
                    break;
                case "json":
                    await AdminResponses.WriteAsync(context, StatusCodes.Status200OK, AdminResponses.JsonContentType, EnvoyStatsRenderer.RenderJson(samples)).ConfigureAwait(false);
                    break;
                case "prometheus":
                    await AdminResponses.WriteAsync(context, StatusCodes.Status200OK, PrometheusContentType, PrometheusStatsRenderer.Render(samples)).ConfigureAwait(false);
                    break;
                default:
                    await AdminResponses.TextAsync(context, StatusCodes.Status400BadRequest,
                        $"Unknown format '{format}': use json, prometheus, or no format for text.\n").ConfigureAwait(false);
                    break;
            }
        }
        catch (RegexMatchTimeoutException)
        {
            await AdminResponses.TextAsync(context, StatusCodes.Status400BadRequest, $"The filter took longer than {FilterTimeout.TotalMilliseconds} ms on a stat name; simplify it.\n").ConfigureAwait(false);
        }
    }
}
