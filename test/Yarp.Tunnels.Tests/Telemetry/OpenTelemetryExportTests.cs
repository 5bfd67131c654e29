using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Tests.Telemetry;

/// <summary>The Yarp.Tunnels meter as a host's OpenTelemetry SDK pipeline (AddOpenTelemetry().WithMetrics) exports it.</summary>
public sealed class OpenTelemetryExportTests
{
    private static readonly StatName RqTime = StatName.Histogram("upstream_rq_time", "Upstream request time.", "ms");

    /// <summary>One host's services: its metrics, its TunnelMetrics and an OpenTelemetry pipeline exporting to a list.</summary>
    private static (ServiceProvider Services, TunnelMetrics Metrics, List<MetricSnapshot> Exported) Host()
    {
        var exported = new List<MetricSnapshot>();
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddSingleton<TunnelMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(TunnelStatistics.MeterName).AddInMemoryExporter(exported));
        // The README's recipe for several hosts in one process: OpenTelemetry subscribes to meters by name process-wide,
        // so each host's pipeline drops the Yarp.Tunnels instruments of meters its own IMeterFactory did not create.
        services.ConfigureOpenTelemetryMeterProvider((sp, metrics) =>
        {
            var ownFactory = sp.GetRequiredService<IMeterFactory>();
            metrics.AddView(instrument => instrument.Meter.Name == TunnelStatistics.MeterName && instrument.Meter.Scope != ownFactory
                ? MetricStreamConfiguration.Drop
                : null);
        });
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<MeterProvider>();
        return (provider, provider.GetRequiredService<TunnelMetrics>(), exported);
    }

    private static Dictionary<string, MetricSnapshot> Flush(ServiceProvider services, List<MetricSnapshot> exported)
    {
        Assert.True(services.GetRequiredService<MeterProvider>().ForceFlush(10_000));
        return exported.ToDictionary(m => m.Name);
    }

    private static Dictionary<string, object?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
        {
            tags.Add(tag.Key, tag.Value);
        }
        return tags;
    }

    [Fact]
    public void Export_CounterGaugeHistogramAndTags_HaveTheDeclaredKindsAndTags()
    {
        var (services, metrics, exported) = Host();
        using var _ = services;
        var cluster = metrics.Scope(StatNames.ClusterFamily, "a.b");
        cluster[StatNames.UpstreamCxTotal].Add(3);
        cluster[StatNames.UpstreamCxActive].Add(2);
        cluster.Histogram(RqTime).Record(3);
        cluster.Histogram(RqTime).Record(700);
        metrics.Scope(StatNames.HttpFamily, "ingress_http").WithTag(StatNames.UpgradeTypeTag, "websocket")[StatNames.DownstreamCxUpgradesTotal].Increment();

        var byName = Flush(services, exported);

        var total = byName["yarp.tunnels.cluster.upstream_cx_total"];
        Assert.Equal(MetricType.LongSum, total.MetricType);
        var totalPoint = Assert.Single(total.MetricPoints);
        Assert.Equal(3, totalPoint.GetSumLong());
        Assert.Equal(new Dictionary<string, object?> { ["cluster"] = "a.b" }, Tags(totalPoint));

        var active = byName["yarp.tunnels.cluster.upstream_cx_active"];
        Assert.Equal(MetricType.LongSumNonMonotonic, active.MetricType);
        Assert.Equal(2, Assert.Single(active.MetricPoints).GetSumLong());

        var rqTime = byName["yarp.tunnels.cluster.upstream_rq_time"];
        Assert.Equal((MetricType.Histogram, "ms"), (rqTime.MetricType, rqTime.Unit));
        var histogram = Assert.Single(rqTime.MetricPoints);
        Assert.Equal((2L, 703d), (histogram.GetHistogramCount(), histogram.GetHistogramSum()));
        var bounds = new List<double>();
        foreach (var bucket in histogram.GetHistogramBuckets())
        {
            bounds.Add(bucket.ExplicitBound);
        }
        Assert.Equal([.. StatName.DefaultBuckets, double.PositiveInfinity], bounds);

        var upgrades = Assert.Single(byName["yarp.tunnels.http.downstream_cx_upgrades_total"].MetricPoints);
        Assert.Equal(new Dictionary<string, object?> { ["http"] = "ingress_http", ["upgrade_type"] = "websocket" }, Tags(upgrades));
    }

    [Fact]
    public void Export_TwoHostsInOneProcessWithTheReadmeView_EachPipelineSeesOnlyItsOwnHost()
    {
        var (servicesA, metricsA, exportedA) = Host();
        var (servicesB, metricsB, exportedB) = Host();
        using var _ = servicesA;
        using var __ = servicesB;
        metricsA.Scope(StatNames.ClusterFamily, "service1")[StatNames.UpstreamCxTotal].Add(3);
        metricsB.Scope(StatNames.ClusterFamily, "service1")[StatNames.UpstreamCxTotal].Add(5);

        var seenA = Assert.Single(Flush(servicesA, exportedA)["yarp.tunnels.cluster.upstream_cx_total"].MetricPoints);
        var seenB = Assert.Single(Flush(servicesB, exportedB)["yarp.tunnels.cluster.upstream_cx_total"].MetricPoints);

        Assert.Equal((3L, 5L), (seenA.GetSumLong(), seenB.GetSumLong()));
    }
}
