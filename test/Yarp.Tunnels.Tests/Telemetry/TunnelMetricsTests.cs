using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Tests.Telemetry;

public class TunnelMetricsTests
{
    private static TunnelMetrics Create(ServiceProvider services) => new(services.GetRequiredService<IMeterFactory>());

    [Fact]
    public void Snapshot_RendersEnvoyFlatNames()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = Create(services);
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
    }

    [Fact]
    public void Meter_PublishesInstrumentPerStatWithFamilyTag_AndHostsNeverMix()
    {
        using var hostA = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var hostB = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var a = Create(hostA);
        var b = Create(hostB);
        a.Scope(StatNames.ClusterFamily, "service1")[StatNames.UpstreamCxTotal].Add(3);
        b.Scope(StatNames.ClusterFamily, "service1")[StatNames.UpstreamCxTotal].Add(5);

        var seen = new List<(object? Meter, string Instrument, long Value, string? Tag)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TunnelMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            seen.Add((instrument.Meter, instrument.Name, value, tags.ToArray().Single(t => t.Key == "cluster").Value as string)));
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Contains((a.Meter, "yarp.tunnels.cluster.upstream_cx_total", 3L, "service1"), seen);
        Assert.Contains((b.Meter, "yarp.tunnels.cluster.upstream_cx_total", 5L, "service1"), seen);
        Assert.Equal(2, seen.Count);
        Assert.Equal(3, a.Snapshot()["cluster.service1.upstream_cx_total"]);
    }
}
