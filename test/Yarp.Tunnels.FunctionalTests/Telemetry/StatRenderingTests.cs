using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.FunctionalTests.Telemetry;

public sealed class StatRenderingTests : IAsyncLifetime
{
    private static readonly StatName RqTime = StatName.Histogram("upstream_rq_time", "Upstream request time.", "ms");

    private readonly TcpEchoServer _echo = TcpEchoServer.Start();
    private WebApplication? _host;

    private WebApplication Host => _host!;

    /// <summary>A TCP proxy with a dotted stat prefix relaying 1,000 bytes to a dotted cluster; one histogram and one tagged counter beside it.</summary>
    public async Task InitializeAsync()
    {
        var host = _host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:front:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:front:TcpProxy:ClusterId"] = "back.end",
            ["Listeners:front:TcpProxy:StatPrefix"] = "front.proxy",
            ["Clusters:back.end:Destinations:d1:Address"] = _echo.Address,
        }), new InternalListenerRegistry());

        var cancellation = TestHost.TimeoutToken();
        using (var client = await SocketIo.ConnectAsync(host.TcpProxyPort("front"), cancellation))
        {
            var reading = SocketIo.ReadToEndAsync(client, cancellation);
            await SocketIo.SendAllAsync(client, new byte[1000], cancellation);
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal(1000, (await reading).Length);
        }
        await host.WaitForStatAsync("tcp.front.proxy.downstream_cx_active", 0);

        var metrics = host.Services.GetRequiredService<TunnelMetrics>();
        var rqTime = metrics.Scope(StatNames.ClusterFamily, "back.end").Histogram(RqTime);
        rqTime.Record(3);
        rqTime.Record(700);
        var http = metrics.Scope(StatNames.HttpFamily, "ingress_http");
        http.WithTag(StatNames.UpgradeTypeTag, "websocket")[StatNames.DownstreamCxUpgradesTotal].Add(2);
        http.WithTag(StatNames.UpgradeTypeTag, "foo")[StatNames.DownstreamCxUpgradesTotal].Increment();
        var cluster = metrics.Scope(StatNames.ClusterFamily, "back.end");
        cluster[StatNames.ResponseCode("upstream_rq", 200)].Add(4);
        cluster[StatNames.ResponseCode("upstream_rq", 503)].Increment();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task Snapshot_FromDI_KeepsFamilyNameStatAndKindApartForDottedNames()
    {
        var host = Host;

        var samples = host.Services.GetRequiredService<TunnelStatistics>().Snapshot();

        var rx = samples.Single(s => s.FlatName == "tcp.front.proxy.downstream_cx_rx_bytes_total");
        Assert.Equal(("tcp", "front.proxy", "downstream_cx_rx_bytes_total", StatKind.Counter, 1000L, "By"), (rx.Family, rx.Name, rx.Stat, rx.Kind, rx.Value, rx.Unit));
        Assert.Equal("yarp.tunnels.tcp.downstream_cx_rx_bytes_total", rx.InstrumentName);
        var active = samples.Single(s => s is { Family: "tcp", Name: "front.proxy", Stat: "downstream_cx_active" });
        Assert.Equal((StatKind.Gauge, 0L), (active.Kind, active.Value));
        var upstream = samples.Single(s => s is { Family: "cluster", Stat: "upstream_cx_total" });
        Assert.Equal(("back.end", 1L), (upstream.Name, upstream.Value));
        var histogram = samples.Single(s => s.Kind == StatKind.Histogram);
        Assert.Equal((2L, 703d), (histogram.Histogram!.Count, histogram.Histogram.Sum));
        var upgrades = samples.Where(s => s.Stat == "downstream_cx_upgrades_total").ToList();
        Assert.Equal([("foo", 1L), ("websocket", 2L)], upgrades.Select(s => (s.Tags.Single(t => t.Key == "upgrade_type").Value, s.Value)));
        Assert.Equal(TunnelStatistics.MeterName, host.Services.GetRequiredService<TunnelMetrics>().Meter.Name);
    }

    [Fact]
    public async Task RenderPrometheus_ParsedByPrometheusClient_HasRightTypesLabelsAndValues()
    {
        var host = Host;
        var text = PrometheusStatsRenderer.Render(host.Services.GetRequiredService<TunnelStatistics>().Snapshot());

        var families = await PrometheusText.ParseAsync(text);

        Assert.All(families.SelectMany(f => f), f => Assert.Contains(f.GetProperty("type").GetString(), new[] { "counter", "gauge", "histogram" }));
        Assert.Equal(families.Sum(f => f.Count()), text.Split('\n').Count(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)));

        // prometheus_client names a counter family without its _total suffix and gives every counter sample one.
        var rx = Single(PrometheusText.Family(families, "envoy_tcp_downstream_cx_rx_bytes"), "counter");
        Assert.Equal(("envoy_tcp_downstream_cx_rx_bytes_total", "front.proxy", 1000d), (rx.Name, rx.Labels["envoy_tcp_prefix"], rx.Value));
        var active = Single(PrometheusText.Family(families, "envoy_tcp_downstream_cx_active"), "gauge");
        Assert.Equal(("front.proxy", 0d), (active.Labels["envoy_tcp_prefix"], active.Value));
        var upstream = Single(PrometheusText.Family(families, "envoy_cluster_upstream_cx"), "counter");
        Assert.Equal(("back.end", 1d), (upstream.Labels["envoy_cluster_name"], upstream.Value));

        var upgrades = Samples(PrometheusText.Family(families, "envoy_http_downstream_cx_upgrades"), "counter")
            .Select(s => (s.Labels["envoy_http_conn_manager_prefix"], s.Labels["upgrade_type"], s.Value));
        Assert.Equal([("ingress_http", "foo", 1d), ("ingress_http", "websocket", 2d)], upgrades);

        var codes = Samples(PrometheusText.Family(families, "envoy_cluster_upstream_rq"), "counter")
            .Select(s => (s.Labels["envoy_cluster_name"], s.Labels["envoy_response_code"], s.Value));
        Assert.Equal([("back.end", "200", 4d), ("back.end", "503", 1d)], codes);

        var rqTime = Samples(PrometheusText.Family(families, "envoy_cluster_upstream_rq_time"), "histogram");
        Assert.All(rqTime, s => Assert.Equal("back.end", s.Labels["envoy_cluster_name"]));
        var buckets = rqTime.Where(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal)).ToDictionary(s => s.Labels["le"], s => s.Value);
        Assert.Equal((0d, 1d, 1d, 2d, 2d), (buckets["1"], buckets["5"], buckets["500"], buckets["1000"], buckets["+Inf"]));
        Assert.Equal(703d, rqTime.Single(s => s.Name == "envoy_cluster_upstream_rq_time_sum").Value);
        Assert.Equal(2d, rqTime.Single(s => s.Name == "envoy_cluster_upstream_rq_time_count").Value);
    }

    [Fact]
    public async Task RenderTextAndJson_ShowFlatNamesWithTagsSummed()
    {
        var host = Host;
        var samples = host.Services.GetRequiredService<TunnelStatistics>().Snapshot();

        var lines = EnvoyStatsRenderer.RenderText(samples).Split('\n');
        using var json = JsonDocument.Parse(EnvoyStatsRenderer.RenderJson(samples));

        Assert.Contains("tcp.front.proxy.downstream_cx_rx_bytes_total: 1000", lines);
        Assert.Contains("cluster.back.end.upstream_cx_total: 1", lines);
        Assert.Contains("http.ingress_http.downstream_cx_upgrades_total: 3", lines);
        Assert.Contains(lines, l => l.StartsWith("cluster.back.end.upstream_rq_time: P0(nan,3) ", StringComparison.Ordinal) && l.EndsWith(" P100(nan,700)", StringComparison.Ordinal));
        var values = json.RootElement.GetProperty("stats").EnumerateArray()
            .Where(s => s.TryGetProperty("name", out _))
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("value").GetInt64());
        Assert.Equal((1000L, 3L), (values["tcp.front.proxy.downstream_cx_rx_bytes_total"], values["http.ingress_http.downstream_cx_upgrades_total"]));
    }

    private static List<(string Name, Dictionary<string, string> Labels, double Value)> Samples(JsonElement family, string type) =>
        PrometheusText.Samples(family, type);

    private static (string Name, Dictionary<string, string> Labels, double Value) Single(JsonElement family, string type) =>
        Assert.Single(Samples(family, type));
}
