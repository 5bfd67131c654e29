using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Admin;

/// <summary>
/// <c>GET /clusters</c>: YARP's clusters and, per destination, its address, the forwarder's counters for it
/// (<c>cx_total</c>, <c>cx_active</c>, <c>rq_total</c>, <c>rq_success</c> (responses below 500), <c>rq_error</c> (5xx,
/// including requests that got no response), <c>rq_timeout</c>), its health flags and weight. Text as Envoy's
/// (<c>cluster::destination::key::value</c>), or <c>?format=json</c> as Envoy's <c>cluster_statuses</c>.
/// </summary>
internal sealed class ClustersAdminHandler(TunnelMetrics metrics, IServiceProvider services)
{
    private static readonly string[] Counters = ["cx_total", "cx_active", "rq_total", "rq_success", "rq_error", "rq_timeout"];

    public Task HandleAsync(HttpContext context)
    {
        var clusters = services.GetService(typeof(IProxyStateLookup)) is IProxyStateLookup lookup
            ? lookup.GetClusters().OrderBy(static c => c.ClusterId, StringComparer.Ordinal).ToList()
            : [];
        var byDestination = metrics.Samples()
            .Where(static s => s.Family == StatNames.ClusterFamily && s.Kind != StatKind.Histogram)
            .Select(static s => (Sample: s, Destination: s.Tags.FirstOrDefault(static t => t.Key == StatNames.DestinationTag).Value))
            .Where(static x => x.Destination is not null)
            .ToLookup(static x => (x.Sample.Name, x.Destination!), static x => x.Sample);

        return context.Request.Query["format"] == "json"
            ? AdminResponses.JsonAsync(context, json => WriteJson(json, clusters, byDestination))
            : AdminResponses.TextAsync(context, StatusCodes.Status200OK, Text(clusters, byDestination));
    }

    private static string Text(List<ClusterState> clusters, ILookup<(string, string), StatSample> stats)
    {
        var text = new StringBuilder();
        foreach (var cluster in clusters)
        {
            var id = cluster.ClusterId;
            text.Append(id).Append("::observability_name::").Append(id).Append('\n');
            text.Append(id).Append("::added_via_api::true\n");
            foreach (var destination in Destinations(cluster))
            {
                var prefix = $"{id}::{destination.DestinationId}::";
                text.Append(prefix).Append("address::").Append(destination.Model.Config.Address).Append('\n');
                foreach (var (name, value) in Values(stats[(id, destination.DestinationId)]))
                {
                    text.Append(prefix).Append(name).Append("::").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
                text.Append(prefix).Append("health_flags::").Append(HealthFlags(destination)).Append('\n');
                text.Append(prefix).Append("weight::1\n");
                text.Append(prefix).Append("hostname::").Append(destination.DestinationId).Append('\n');
            }
        }
        return text.ToString();
    }

    private static void WriteJson(Utf8JsonWriter json, List<ClusterState> clusters, ILookup<(string, string), StatSample> stats)
    {
        json.WriteStartObject();
        json.WriteStartArray("cluster_statuses");
        foreach (var cluster in clusters)
        {
            json.WriteStartObject();
            json.WriteString("name", cluster.ClusterId);
            json.WriteBoolean("added_via_api", true);
            json.WriteStartArray("host_statuses");
            foreach (var destination in Destinations(cluster))
            {
                json.WriteStartObject();
                json.WriteString("hostname", destination.DestinationId);
                json.WriteString("address", destination.Model.Config.Address);
                json.WriteStartArray("stats");
                foreach (var (name, value) in Values(stats[(cluster.ClusterId, destination.DestinationId)]))
                {
                    json.WriteStartObject();
                    json.WriteString("name", name);
                    json.WriteNumber("value", value);
                    json.WriteString("type", name == "cx_active" ? "GAUGE" : "COUNTER");
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteStartObject("health_status");
                var active = destination.Health.Active == DestinationHealth.Unhealthy;
                var passive = destination.Health.Passive == DestinationHealth.Unhealthy;
                json.WriteString("eds_health_status", active || passive ? "UNHEALTHY" : "HEALTHY");
                json.WriteBoolean("failed_active_health_check", active);
                json.WriteBoolean("failed_outlier_check", passive);
                json.WriteEndObject();
                json.WriteNumber("weight", 1);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static IEnumerable<DestinationState> Destinations(ClusterState cluster) =>
        cluster.Destinations.Values.OrderBy(static d => d.DestinationId, StringComparer.Ordinal);

    /// <summary>The per-destination counters of <see cref="Counters"/>, from the destination's series of the cluster stats.</summary>
    private static IEnumerable<(string Name, long Value)> Values(IEnumerable<StatSample> samples)
    {
        long Sum(Func<StatSample, bool> match) => samples.Where(match).Sum(static s => s.Value);
        bool IsClass(StatSample s, Func<string, bool> digit) =>
            s.Metric == StatNames.UpstreamRq + "_xx" && s.Tags.FirstOrDefault(static t => t.Key == StatNames.ResponseCodeClassTag).Value is { } c && digit(c);

        var values = new[]
        {
            Sum(static s => s.Stat == StatNames.UpstreamCxTotal.Name),
            Sum(static s => s.Stat == StatNames.UpstreamCxActive.Name),
            Sum(static s => s.Stat == StatNames.UpstreamRqTotal.Name),
            Sum(s => IsClass(s, static c => c != "5")),
            Sum(s => IsClass(s, static c => c == "5")),
            Sum(static s => s.Stat == StatNames.UpstreamRqTimeout.Name),
        };
        return Counters.Zip(values);
    }

    private static string HealthFlags(DestinationState destination)
    {
        var flags = new List<string>();
        if (destination.Health.Active == DestinationHealth.Unhealthy)
        {
            flags.Add("/failed_active_hc");
        }
        if (destination.Health.Passive == DestinationHealth.Unhealthy)
        {
            flags.Add("/failed_outlier_check");
        }
        return flags.Count == 0 ? "healthy" : string.Concat(flags);
    }
}
