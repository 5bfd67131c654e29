using System.Net;
using System.Text.Json;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Admin;

/// <summary>The admin endpoint's <c>/stats</c>: values that count exactly what was sent, in text, JSON and Prometheus.</summary>
public sealed class AdminStatsTests : IAsyncLifetime
{
    private AdminGateway? _gateway;

    private AdminGateway Gateway => _gateway!;

    /// <summary>5 requests front → c1 → backend; 3 requests front → c2 → (h2, internal) inner → c1 → backend.</summary>
    public async Task InitializeAsync()
    {
        _gateway = await AdminGateway.StartAsync();
        await Gateway.SendAsync("/hello", 5);
        await Gateway.SendAsync("/h2/hello", 3);
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
    }

    [Fact]
    public async Task Stats_RequestsThroughTwoHops_CountExactly()
    {
        var stats = await Gateway.StatsAsync();

        // c1 served all 8: 5 from the front listener (external), 3 from the internal listener (internal).
        Assert.Equal(("8", "8", "8", "5", "3"), (stats["cluster.c1.upstream_rq_total"], stats["cluster.c1.upstream_rq_200"], stats["cluster.c1.upstream_rq_2xx"],
            stats["cluster.c1.external.upstream_rq_200"], stats["cluster.c1.internal.upstream_rq_200"]));
        Assert.Equal(("3", "3", "3"), (stats["cluster.c2.upstream_rq_total"], stats["cluster.c2.upstream_rq_200"], stats["cluster.c2.external.upstream_rq_200"]));
        Assert.DoesNotContain("cluster.c2.internal.upstream_rq_200", stats.Keys);
        // Connections: c2's are HTTP/2 to the internal listener, which counted the same connections as accepted.
        Assert.Equal("1", stats["cluster.c2.upstream_cx_http2_total"]);
        Assert.Equal(stats["listener.envoy_internal_inner.downstream_cx_total"], stats["cluster.c2.upstream_cx_total"]);
        Assert.Equal(stats["cluster.c2.upstream_cx_total"], stats["cluster.c2.upstream_cx_http2_total"]);
        Assert.Equal(stats["cluster.c1.upstream_cx_total"], stats["cluster.c1.upstream_cx_http1_total"]);
        Assert.DoesNotContain("cluster.c1.upstream_cx_http2_total", stats.Keys);
        Assert.Equal(stats["cluster.c1.upstream_cx_total"], stats["cluster.c1.upstream_cx_active"]);
        // Downstream: the front listener's 8 requests over the connections the listener itself counted.
        Assert.Equal(("8", "8", "3", "3"), (stats["http.ingress_http.downstream_rq_total"], stats["http.ingress_http.downstream_rq_2xx"],
            stats["http.inner.downstream_rq_total"], stats["http.inner.downstream_rq_2xx"]));
        Assert.Equal(stats["listener.front.downstream_cx_total"], stats["http.ingress_http.downstream_cx_total"]);
        Assert.Equal(("1", "1", "1"), (stats["cluster.c1.membership_total"], stats["cluster.c1.membership_healthy"], stats["cluster.c1.membership_change"]));
        Assert.StartsWith("P0(nan,", stats["cluster.c1.upstream_rq_time"], StringComparison.Ordinal);
        Assert.StartsWith("P0(nan,", stats["http.ingress_http.downstream_rq_time"], StringComparison.Ordinal);
        // The admin's own requests are counted under http.admin, by the time each response is sent.
        Assert.Equal("1", stats["http.admin.downstream_rq_total"]);

        await Gateway.SendAsync("/hello", 2);
        var after = await Gateway.StatsAsync();
        // This /stats request is counted on arrival; its own 2xx only once its headers go out, after the rendering.
        Assert.Equal(("10", "2", "1"), (after["cluster.c1.upstream_rq_200"], after["http.admin.downstream_rq_total"], after["http.admin.downstream_rq_2xx"]));
    }

    [Fact]
    public async Task Stats_FilterAndUsedOnly_NarrowTheLines()
    {
        var filtered = await Gateway.StatsAsync("?filter=" + Uri.EscapeDataString(@"^cluster\.c2\."));
        var all = await Gateway.StatsAsync();
        var used = await Gateway.StatsAsync("?usedonly");

        Assert.NotEmpty(filtered);
        Assert.All(filtered.Keys, name => Assert.StartsWith("cluster.c2.", name, StringComparison.Ordinal));
        Assert.Equal("3", filtered["cluster.c2.upstream_rq_total"]);
        // The internal listener's one (pooled) connection is still open: declared, never updated.
        Assert.Equal("0", all["listener.envoy_internal_inner.downstream_cx_destroy"]);
        Assert.DoesNotContain("listener.envoy_internal_inner.downstream_cx_destroy", used.Keys);
        Assert.Equal("8", used["cluster.c1.upstream_rq_200"]);

        using var bad = await Gateway.Admin.GetAsync("/stats?filter=" + Uri.EscapeDataString("(unclosed"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var unknown = await Gateway.Admin.GetAsync("/stats?format=xml");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
    }

    [Fact]
    public async Task StatsJson_Parsed_HasCountersAndHistograms()
    {
        using var response = await Gateway.Admin.GetAsync("/stats?format=json");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var entries = json.RootElement.GetProperty("stats").EnumerateArray().ToList();
        var values = entries.Where(e => e.TryGetProperty("name", out _)).ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("value").GetInt64());
        Assert.Equal((8L, 3L, 1L), (values["cluster.c1.upstream_rq_200"], values["cluster.c2.upstream_rq_total"], values["cluster.c2.upstream_cx_http2_total"]));
        var histograms = entries.Single(e => e.TryGetProperty("histograms", out _)).GetProperty("histograms");
        var rqTime = histograms.GetProperty("computed_quantiles").EnumerateArray().Single(h => h.GetProperty("name").GetString() == "cluster.c1.upstream_rq_time");
        Assert.All(rqTime.GetProperty("values").EnumerateArray(), v => Assert.True(v.GetProperty("cumulative").GetDouble() >= 0));
    }

    [Theory]
    [InlineData("/stats?format=prometheus")]
    [InlineData("/stats/prometheus")]
    public async Task StatsPrometheus_ParsedByPrometheusClient_CountsPerClusterAndDestination(string path)
    {
        using var response = await Gateway.Admin.GetAsync(path);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());

        var families = await PrometheusText.ParseAsync(await response.Content.ReadAsStringAsync());

        // upstream_rq_total: the envoy_cluster_upstream_rq family without response codes.
        var total = families["envoy_cluster_upstream_rq"].Select(f => PrometheusText.Samples(f, "counter"))
            .Single(samples => samples.All(s => !s.Labels.ContainsKey("envoy_response_code")))
            .Select(s => (s.Labels["envoy_cluster_name"], s.Value)).OrderBy(s => s.Item1);
        Assert.Equal([("c1", 8d), ("c2", 3d)], total);
        var codes = PrometheusText.Samples(PrometheusText.Family(families, "envoy_cluster_upstream_rq", "envoy_response_code"), "counter")
            .Select(s => (s.Labels["envoy_cluster_name"], s.Labels["destination"], s.Labels["envoy_response_code"], s.Value)).OrderBy(s => s.Item1).ToList();
        Assert.Equal([("c1", "d1", "200", 8d), ("c2", "d1", "200", 3d)], codes);
        var external = PrometheusText.Samples(PrometheusText.Family(families, "envoy_cluster_external_upstream_rq"), "counter");
        Assert.Equal(5d, external.Single(s => s.Labels["envoy_cluster_name"] == "c1").Value);
        var http2 = Assert.Single(PrometheusText.Samples(PrometheusText.Family(families, "envoy_cluster_upstream_cx_http2"), "counter"));
        Assert.Equal(("c2", 1d), (http2.Labels["envoy_cluster_name"], http2.Value));
        var membership = PrometheusText.Samples(PrometheusText.Family(families, "envoy_cluster_membership_total"), "gauge");
        Assert.All(membership, m => Assert.Equal(1d, m.Value));
        var downstream = PrometheusText.Samples(PrometheusText.Family(families, "envoy_http_downstream_rq_xx"), "counter")
            .Single(s => s.Labels["envoy_http_conn_manager_prefix"] == "ingress_http");
        Assert.Equal(("2", 8d), (downstream.Labels["envoy_response_code_class"], downstream.Value));
        var rqTime = PrometheusText.Samples(PrometheusText.Family(families, "envoy_cluster_upstream_rq_time"), "histogram");
        Assert.Equal(8d, rqTime.Single(s => s.Name == "envoy_cluster_upstream_rq_time_count" && s.Labels["envoy_cluster_name"] == "c1").Value);
    }
}
