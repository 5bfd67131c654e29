using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Tests.Telemetry;

public sealed class StatRenderersTests : IDisposable
{
    private static readonly StatName RqTime = StatName.Histogram("upstream_rq_time", "Upstream request time.", "ms", [1, 10]);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    /// <summary>A dotted cluster name, a tagged counter pair, a gauge and a histogram.</summary>
    private IReadOnlyList<StatSample> Samples()
    {
        var metrics = new TunnelMetrics(_services.GetRequiredService<IMeterFactory>());
        metrics.Scope(StatNames.ClusterFamily, "a.b")[StatNames.UpstreamCxTotal].Add(3);
        metrics.Scope(StatNames.ClusterFamily, "a.b")[StatNames.UpstreamCxActive].Add(1);
        var http = metrics.Scope(StatNames.HttpFamily, "ingress_http");
        http.WithTag(StatNames.UpgradeTypeTag, "websocket")[StatNames.DownstreamCxUpgradesTotal].Add(2);
        http.WithTag(StatNames.UpgradeTypeTag, "foo")[StatNames.DownstreamCxUpgradesTotal].Add(1);
        var rqTime = metrics.Scope(StatNames.ClusterFamily, "a.b").Histogram(RqTime);
        rqTime.Record(0.5);
        rqTime.Record(4);
        rqTime.Record(20);
        metrics.Scope(StatNames.ClusterFamily, "empty").Histogram(RqTime);
        return metrics.Samples();
    }

    [Fact]
    public void RenderText_FlatNamesSumTagsAndHistogramsComeLast()
    {
        var text = EnvoyStatsRenderer.RenderText(Samples());

        Assert.Equal(
            "cluster.a.b.upstream_cx_active: 1\n" +
            "cluster.a.b.upstream_cx_total: 3\n" +
            "http.ingress_http.downstream_cx_upgrades_total: 3\n" +
            "cluster.a.b.upstream_rq_time: P0(nan,0.5) P25(nan,0.875) P50(nan,5.5) P75(nan,12.5) P90(nan,17) " +
            "P95(nan,18.5) P99(nan,19.7) P99.5(nan,19.85) P99.9(nan,19.97) P100(nan,20)\n" +
            "cluster.empty.upstream_rq_time: No recorded values\n",
            text);
    }

    [Fact]
    public void RenderJson_IsEnvoysStatsArrayWithHistogramsLast()
    {
        using var json = JsonDocument.Parse(EnvoyStatsRenderer.RenderJson(Samples()));

        var stats = json.RootElement.GetProperty("stats").EnumerateArray().ToList();
        Assert.Equal(
            [("cluster.a.b.upstream_cx_active", 1L), ("cluster.a.b.upstream_cx_total", 3L), ("http.ingress_http.downstream_cx_upgrades_total", 3L)],
            stats.SkipLast(1).Select(s => (s.GetProperty("name").GetString()!, s.GetProperty("value").GetInt64())));
        var histograms = stats[^1].GetProperty("histograms");
        Assert.Equal([0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100], histograms.GetProperty("supported_quantiles").EnumerateArray().Select(q => q.GetDouble()));
        var computed = histograms.GetProperty("computed_quantiles").EnumerateArray().ToList();
        Assert.Equal(["cluster.a.b.upstream_rq_time", "cluster.empty.upstream_rq_time"], computed.Select(c => c.GetProperty("name").GetString()));
        var median = computed[0].GetProperty("values")[2];
        Assert.Equal(JsonValueKind.Null, median.GetProperty("interval").ValueKind);
        Assert.Equal(5.5, median.GetProperty("cumulative").GetDouble());
        Assert.Equal(JsonValueKind.Null, computed[1].GetProperty("values")[2].GetProperty("cumulative").ValueKind);
    }

    [Fact]
    public void RenderPrometheus_LabelsKeepDottedNamesAndTagsApart_WithOneTypePerMetric()
    {
        var text = PrometheusStatsRenderer.Render(Samples());

        Assert.Equal(
            "# HELP envoy_cluster_upstream_cx_active Upstream connections open now.\n" +
            "# TYPE envoy_cluster_upstream_cx_active gauge\n" +
            "envoy_cluster_upstream_cx_active{envoy_cluster_name=\"a.b\"} 1\n" +
            "# HELP envoy_cluster_upstream_cx_total Upstream connections opened.\n" +
            "# TYPE envoy_cluster_upstream_cx_total counter\n" +
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"a.b\"} 3\n" +
            "# HELP envoy_cluster_upstream_rq_time Upstream request time.\n" +
            "# TYPE envoy_cluster_upstream_rq_time histogram\n" +
            "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a.b\",le=\"1\"} 1\n" +
            "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a.b\",le=\"10\"} 2\n" +
            "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a.b\",le=\"+Inf\"} 3\n" +
            "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"a.b\"} 24.5\n" +
            "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"a.b\"} 3\n" +
            "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"empty\",le=\"1\"} 0\n" +
            "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"empty\",le=\"10\"} 0\n" +
            "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"empty\",le=\"+Inf\"} 0\n" +
            "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"empty\"} 0\n" +
            "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"empty\"} 0\n" +
            "# HELP envoy_http_downstream_cx_upgrades_total Connections and streams upgraded (WebSocket, CONNECT, any token).\n" +
            "# TYPE envoy_http_downstream_cx_upgrades_total counter\n" +
            "envoy_http_downstream_cx_upgrades_total{envoy_http_conn_manager_prefix=\"ingress_http\",upgrade_type=\"foo\"} 1\n" +
            "envoy_http_downstream_cx_upgrades_total{envoy_http_conn_manager_prefix=\"ingress_http\",upgrade_type=\"websocket\"} 2\n",
            text);
    }

    [Fact]
    public void RenderPrometheus_ResponseCodeStats_AreOneMetricWithEnvoysCodeLabels()
    {
        var metrics = new TunnelMetrics(_services.GetRequiredService<IMeterFactory>());
        var cluster = metrics.Scope(StatNames.ClusterFamily, "service1");
        cluster[StatNames.ResponseCode("upstream_rq", 200)].Add(2);
        cluster[StatNames.ResponseCode("upstream_rq", 404)].Increment();
        cluster[StatNames.ResponseCodeClass("upstream_rq", 404)].Increment();
        cluster[StatNames.ResponseCode("external.upstream_rq", 200)].Add(2);

        var text = PrometheusStatsRenderer.Render(metrics.Samples());

        Assert.Equal(
            "# HELP envoy_cluster_external_upstream_rq Requests by response code.\n" +
            "# TYPE envoy_cluster_external_upstream_rq counter\n" +
            "envoy_cluster_external_upstream_rq{envoy_cluster_name=\"service1\",envoy_response_code=\"200\"} 2\n" +
            "# HELP envoy_cluster_upstream_rq Requests by response code.\n" +
            "# TYPE envoy_cluster_upstream_rq counter\n" +
            "envoy_cluster_upstream_rq{envoy_cluster_name=\"service1\",envoy_response_code=\"200\"} 2\n" +
            "envoy_cluster_upstream_rq{envoy_cluster_name=\"service1\",envoy_response_code=\"404\"} 1\n" +
            "# HELP envoy_cluster_upstream_rq_xx Requests by response code class.\n" +
            "# TYPE envoy_cluster_upstream_rq_xx counter\n" +
            "envoy_cluster_upstream_rq_xx{envoy_cluster_name=\"service1\",envoy_response_code_class=\"4\"} 1\n",
            text);
        Assert.Contains("cluster.service1.external.upstream_rq_200: 2\n", EnvoyStatsRenderer.RenderText(metrics.Samples()));
    }

    [Fact]
    public void RenderPrometheus_LabelValuesAreEscaped()
    {
        var metrics = new TunnelMetrics(_services.GetRequiredService<IMeterFactory>());
        metrics.Scope(StatNames.ClusterFamily, "q\"b\\s\nn")[StatNames.UpstreamCxTotal].Increment();

        var text = PrometheusStatsRenderer.Render(metrics.Samples());

        Assert.Contains("envoy_cluster_upstream_cx_total{envoy_cluster_name=\"q\\\"b\\\\s\\nn\"} 1\n", text);
    }
}
