using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Tests.Telemetry;

public sealed class TunnelMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    private TunnelMetrics Create() => new(_services.GetRequiredService<IMeterFactory>());

    [Fact]
    public void Snapshot_RendersEnvoyFlatNames()
    {
        var metrics = Create();
        var listener = metrics.Listener(StatNames.InternalListener("encap"));
        listener.ConnectionOpened();
        listener.AddReceived(10);
        metrics.Scope(StatNames.TcpFamily, "l1")[StatNames.IdleTimeout].Increment();

        var snapshot = metrics.Snapshot();

        Assert.Equal(1, snapshot["listener.envoy_internal_encap.downstream_cx_total"]);
        Assert.Equal(1, snapshot["listener.envoy_internal_encap.downstream_cx_active"]);
        Assert.Equal(10, snapshot["listener.envoy_internal_encap.downstream_cx_rx_bytes_total"]);
        Assert.Equal(1, snapshot["tcp.l1.idle_timeout"]);
        Assert.Equal(1, metrics.Get("tcp", "l1", "idle_timeout"));
        Assert.Equal(1, metrics.Get(StatNames.TcpFamily, "l1", StatNames.IdleTimeout));
    }

    [Fact]
    public void Meter_PublishesInstrumentPerStatWithFamilyTag_AndHostsNeverMix()
    {
        using var otherHost = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var a = Create();
        var b = new TunnelMetrics(otherHost.GetRequiredService<IMeterFactory>());
        a.Scope(StatNames.ClusterFamily, "service1")[StatNames.UpstreamCxTotal].Add(3);
        b.Scope(StatNames.ClusterFamily, "service1")[StatNames.UpstreamCxTotal].Add(5);
        using var captureA = new MeterCapture(a.Meter);
        using var captureB = new MeterCapture(b.Meter);

        var seenA = Assert.Single(captureA.Collect());
        var seenB = Assert.Single(captureB.Collect());

        Assert.Equal(TunnelStatistics.MeterName, a.Meter.Name);
        Assert.Equal(("yarp.tunnels.cluster.upstream_cx_total", 3d, "service1"), (seenA.Instrument, seenA.Value, seenA.Tags["cluster"]));
        Assert.Equal(("yarp.tunnels.cluster.upstream_cx_total", 5d, "service1"), (seenB.Instrument, seenB.Value, seenB.Tags["cluster"]));
        Assert.Equal(3, a.Snapshot()["cluster.service1.upstream_cx_total"]);
    }

    [Fact]
    public void Meter_InstrumentKinds_FollowDeclarationNotName()
    {
        var metrics = Create();
        var gaugeNotEndingInActive = StatName.Gauge("membership_total", "test gauge");
        var counterEndingInActive = StatName.Counter("test_active", "test counter");
        var histogram = StatName.Histogram("upstream_rq_time", "test histogram", "ms");
        var scope = metrics.Scope(StatNames.ClusterFamily, "c");
        using var capture = new MeterCapture(metrics.Meter);

        scope[gaugeNotEndingInActive].Set(4);
        scope[counterEndingInActive].Increment();
        scope.Histogram(histogram).Record(12);

        var instruments = capture.Instruments.ToDictionary(i => i.Name);
        Assert.IsType<ObservableUpDownCounter<long>>(instruments["yarp.tunnels.cluster.membership_total"]);
        Assert.IsType<ObservableCounter<long>>(instruments["yarp.tunnels.cluster.test_active"]);
        var recorded = Assert.IsType<Histogram<double>>(instruments["yarp.tunnels.cluster.upstream_rq_time"]);
        Assert.Equal("ms", recorded.Unit);
        Assert.Equal("test histogram", recorded.Description);
        Assert.Equal(StatName.DefaultBuckets, recorded.Advice!.HistogramBucketBoundaries);
        var measured = capture.Collect().Single(m => m.Instrument == "yarp.tunnels.cluster.upstream_rq_time");
        Assert.Equal((12d, "c"), (measured.Value, measured.Tags["cluster"]));
    }

    [Fact]
    public void WithTag_SameKeyAndValue_ReturnsTheCachedScope()
    {
        var scope = Create().Scope(StatNames.HttpFamily, "ingress_http");

        var first = scope.WithTag(StatNames.UpgradeTypeTag, "websocket");

        Assert.Same(first, scope.WithTag(StatNames.UpgradeTypeTag, "websocket"));
        Assert.NotSame(first, scope.WithTag(StatNames.UpgradeTypeTag, "foo"));
        Assert.Equal([new(StatNames.UpgradeTypeTag, "websocket")], first.Tags);
        Assert.Equal(("http", "ingress_http"), (first.Family, first.Name));
    }

    [Fact]
    public void WithTag_TaggedSeries_SumIntoTheFlatNameAndKeepTheirTagsInTheMeter()
    {
        var metrics = Create();
        var http = metrics.Scope(StatNames.HttpFamily, "ingress_http");
        http.WithTag(StatNames.UpgradeTypeTag, "websocket")[StatNames.DownstreamCxUpgradesTotal].Add(2);
        http.WithTag(StatNames.UpgradeTypeTag, "CONNECT")[StatNames.DownstreamCxUpgradesTotal].Increment();
        http.WithTag(StatNames.UpgradeTypeTag, "CONNECT")[StatNames.DownstreamCxUpgradesActive].Increment();
        using var capture = new MeterCapture(metrics.Meter);

        var measurements = capture.Collect();

        Assert.Equal(3, metrics.Snapshot()["http.ingress_http.downstream_cx_upgrades_total"]);
        Assert.Equal(3, metrics.Get(StatNames.HttpFamily, "ingress_http", StatNames.DownstreamCxUpgradesTotal));
        Assert.Equal(1, metrics.Get(StatNames.HttpFamily, "ingress_http", StatNames.DownstreamCxUpgradesActive));
        var totals = measurements.Where(m => m.Instrument == "yarp.tunnels.http.downstream_cx_upgrades_total")
            .Select(m => (m.Value, m.Tags["http"], m.Tags[StatNames.UpgradeTypeTag], m.Tags.Count))
            .Order()
            .ToArray();
        Assert.Equal([(1d, "ingress_http", "CONNECT", 2), (2d, "ingress_http", "websocket", 2)], totals);
    }

    [Fact]
    public void WithTag_Nested_CarriesBothTagsInOrder()
    {
        var scope = Create().Scope(StatNames.ClusterFamily, "c").WithTag("a", "1").WithTag("b", "2");

        Assert.Equal([new("a", "1"), new("b", "2")], scope.Tags);
        Assert.Equal([new("cluster", "c"), new("a", "1"), new("b", "2")], scope.MeterTags);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1type")]
    [InlineData("upgrade-type")]
    [InlineData("le")]
    [InlineData("__name__")]
    [InlineData("envoy_cluster_name")]
    [InlineData("http")]
    [InlineData("a")]
    public void WithTag_KeyNotUsableAsLabel_ThrowsNamingTheKey(string key)
    {
        var scope = Create().Scope(StatNames.HttpFamily, "p").WithTag("a", "1");

        var error = Assert.Throws<ArgumentException>(() => scope.WithTag(key, "v"));

        Assert.Contains($"'{key}'", error.Message);
    }

    [Fact]
    public void WithTag_EmptyValue_Throws()
    {
        var scope = Create().Scope(StatNames.HttpFamily, "p");

        Assert.Throws<ArgumentException>(() => scope.WithTag("upgrade_type", ""));
    }

    [Fact]
    public void Indexer_SameStatNameDeclaredWithTwoKinds_Throws()
    {
        var metrics = Create();
        metrics.Scope(StatNames.TcpFamily, "a")[StatName.Counter("x_count", "counter")].Increment();

        var error = Assert.Throws<InvalidOperationException>(() => metrics.Scope(StatNames.TcpFamily, "b")[StatName.Gauge("x_count", "gauge")]);

        Assert.Contains("x_count", error.Message);
    }

    [Fact]
    public void Indexer_Histogram_ThrowsAndHistogramOfCounterThrows()
    {
        var scope = Create().Scope(StatNames.ClusterFamily, "c");

        Assert.Throws<InvalidOperationException>(() => scope[StatName.Histogram("rq_time", "h", "ms")]);
        Assert.Throws<InvalidOperationException>(() => scope.Histogram(StatNames.UpstreamCxTotal));
    }

    [Fact]
    public void Samples_Used_OnlyForStatsEverUpdated()
    {
        var metrics = Create();
        var scope = metrics.Scope(StatNames.TcpFamily, "p");
        _ = scope[StatNames.IdleTimeout];
        scope[StatNames.DownstreamCxActive].Increment();
        scope[StatNames.DownstreamCxActive].Decrement();
        scope[StatNames.DownstreamCxTotal].Increment();
        _ = scope.Histogram(StatName.Histogram("t_time", "test", "ms"));
        metrics.ResetCounters();

        var used = metrics.Samples().ToDictionary(s => s.Stat, s => s.Used);

        Assert.Equal(new Dictionary<string, bool>
        {
            ["idle_timeout"] = false,
            ["downstream_cx_active"] = true,
            ["downstream_cx_total"] = true,
            ["t_time"] = false,
        }, used);
    }

    [Fact]
    public void Set_OnCounter_Throws()
    {
        var counter = Create().Scope(StatNames.ClusterFamily, "c")[StatNames.UpstreamCxTotal];

        Assert.Throws<InvalidOperationException>(() => counter.Set(3));
    }

    [Fact]
    public void ResetCounters_ZeroesCountersOnly()
    {
        var metrics = Create();
        var scope = metrics.Scope(StatNames.ClusterFamily, "c");
        scope[StatNames.UpstreamCxTotal].Add(4);
        scope.WithTag("k", "v")[StatNames.UpstreamCxTotal].Add(1);
        scope[StatNames.UpstreamCxActive].Add(2);

        metrics.ResetCounters();

        Assert.Equal(0, metrics.Get("cluster", "c", "upstream_cx_total"));
        Assert.Equal(2, metrics.Get("cluster", "c", "upstream_cx_active"));
    }

    [Fact]
    public void ResponseCode_StatsOfOneMetric_ShareOneInstrumentTaggedWithTheCode()
    {
        var metrics = Create();
        var cluster = metrics.Scope(StatNames.ClusterFamily, "service1");
        using var capture = new MeterCapture(metrics.Meter);

        cluster[StatNames.ResponseCode("upstream_rq", 200)].Add(2);
        cluster[StatNames.ResponseCode("upstream_rq", 503)].Increment();
        cluster[StatNames.ResponseCodeClass("upstream_rq", 200)].Add(2);
        cluster[StatNames.ResponseCodeClass("upstream_rq", 503)].Increment();

        Assert.Same(StatNames.ResponseCode("upstream_rq", 200), StatNames.ResponseCode("upstream_rq", 200));
        Assert.Equal(["yarp.tunnels.cluster.upstream_rq", "yarp.tunnels.cluster.upstream_rq_xx"], capture.Instruments.Select(i => i.Name).Order());
        var measured = capture.Collect()
            .Select(m => (m.Instrument, m.Value, m.Tags["cluster"], m.Tags.GetValueOrDefault(StatNames.ResponseCodeTag) ?? m.Tags[StatNames.ResponseCodeClassTag]))
            .Order();
        Assert.Equal(
            [("yarp.tunnels.cluster.upstream_rq", 1d, "service1", "503"), ("yarp.tunnels.cluster.upstream_rq", 2d, "service1", "200"),
             ("yarp.tunnels.cluster.upstream_rq_xx", 1d, "service1", "5"), ("yarp.tunnels.cluster.upstream_rq_xx", 2d, "service1", "2")],
            measured);
        var snapshot = metrics.Snapshot();
        Assert.Equal((2L, 1L, 2L, 1L), (snapshot["cluster.service1.upstream_rq_200"], snapshot["cluster.service1.upstream_rq_503"],
            snapshot["cluster.service1.upstream_rq_2xx"], snapshot["cluster.service1.upstream_rq_5xx"]));
        var sample = metrics.Samples().Single(s => s.Stat == "upstream_rq_503");
        Assert.Equal(("upstream_rq", "yarp.tunnels.cluster.upstream_rq"), (sample.Metric, sample.InstrumentName));
        Assert.Equal([new(StatNames.ResponseCodeTag, "503")], sample.Tags);
    }

    [Theory]
    [InlineData(99)]
    [InlineData(600)]
    public void ResponseCode_OutOfRange_Throws(int statusCode)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StatNames.ResponseCode("upstream_rq", statusCode));
        Assert.Throws<ArgumentOutOfRangeException>(() => StatNames.ResponseCodeClass("upstream_rq", statusCode));
    }

    [Fact]
    public void Snapshot_NameWithDots_KeepsDotsInFlatNameAndStaysSeparateInSamples()
    {
        var metrics = Create();
        metrics.Scope(StatNames.ClusterFamily, "a.b")[StatNames.UpstreamCxTotal].Increment();

        var sample = Assert.Single(metrics.Samples());

        Assert.Equal(1, metrics.Snapshot()["cluster.a.b.upstream_cx_total"]);
        Assert.Equal(("cluster", "a.b", "upstream_cx_total", "cluster.a.b.upstream_cx_total"), (sample.Family, sample.Name, sample.Stat, sample.FlatName));
    }
}
