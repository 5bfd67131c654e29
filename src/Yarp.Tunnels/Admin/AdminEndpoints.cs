using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Yarp.Tunnels.Admin;

/// <summary>The admin endpoints by path, and the HTML index (<c>GET /</c>) listing them, like Envoy's admin home page.</summary>
internal sealed class AdminEndpoints
{
    private readonly Dictionary<string, AdminEndpoint> _byPath;

    public AdminEndpoints(ServerAdminHandler server, StatsAdminHandler stats, ClustersAdminHandler clusters, ListenersAdminHandler listeners,
        ConfigDumpAdminHandler configDump)
    {
        AdminEndpoint[] all =
        [
            new("/", HttpMethods.Get, "this page", IndexAsync),
            new("/server_info", HttpMethods.Get, "version, state (LIVE, DRAINING, PRE_INITIALIZING), uptime and command-line options, as JSON", server.ServerInfoAsync),
            new("/ready", HttpMethods.Get, "the state; 200 only when LIVE, else 503", server.ReadyAsync),
            new("/stats", HttpMethods.Get, "statistics as name: value lines; ?filter=REGEX, ?usedonly, ?format=json, ?format=prometheus", stats.HandleAsync),
            new("/stats/prometheus", HttpMethods.Get, "statistics in the Prometheus text format (?filter=REGEX, ?usedonly)", stats.HandlePrometheusAsync),
            new("/clusters", HttpMethods.Get, "clusters and their destinations: counters, health flags, weight; ?format=json", clusters.HandleAsync),
            new("/listeners", HttpMethods.Get, "listeners and their bound addresses; ?format=json", listeners.HandleAsync),
            new("/config_dump", HttpMethods.Get, "the effective configuration as JSON, secrets redacted", configDump.HandleAsync),
            new("/healthcheck/fail", HttpMethods.Post, "fail the health check: the state becomes DRAINING and /ready answers 503", server.HealthCheckFailAsync),
            new("/healthcheck/ok", HttpMethods.Post, "restore the health check", server.HealthCheckOkAsync),
            new("/drain_listeners", HttpMethods.Post, "drain every listener but the admin's: stop accepting, GOAWAY / Connection: close, reset at the DrainTimeout", server.DrainListenersAsync),
            new("/reset_counters", HttpMethods.Post, "reset every counter to zero", server.ResetCountersAsync),
        ];
        All = all;
        _byPath = all.ToDictionary(static e => e.Path, StringComparer.Ordinal);
    }

    public IReadOnlyList<AdminEndpoint> All { get; }

    public bool TryGet(string path, [NotNullWhen(true)] out AdminEndpoint? endpoint) =>
        _byPath.TryGetValue(path.Length > 1 ? path.TrimEnd('/') : path, out endpoint);

    private Task IndexAsync(HttpContext context)
    {
        var html = new StringBuilder("""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Yarp.Tunnels admin</title>
            <style>body{font-family:sans-serif}td{padding:2px 8px}</style></head>
            <body><h1>Yarp.Tunnels admin</h1><table>
            <tr><th>Command</th><th>Description</th></tr>

            """);
        foreach (var endpoint in All)
        {
            var path = WebUtility.HtmlEncode(endpoint.Path);
            var link = endpoint.IsMutation
                ? $"<form action=\"{path}\" method=\"post\"><button>{path}</button></form>"
                : $"<a href=\"{path}\">{path}</a>";
            html.Append("<tr><td>").Append(link).Append("</td><td>").Append(WebUtility.HtmlEncode(endpoint.Help)).Append("</td></tr>\n");
        }
        html.Append("</table></body></html>\n");
        return AdminResponses.WriteAsync(context, StatusCodes.Status200OK, AdminResponses.HtmlContentType, html.ToString());
    }
}
