using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Tests.Telemetry;

public sealed class StatHistogramTests : IDisposable
{
    private static readonly StatName RqTime = StatName.Histogram("upstream_rq_time", "Upstream request time.", "ms");

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    private StatHistogram Create(StatName? stat = null) =>
        new TunnelMetrics(_services.GetRequiredService<IMeterFactory>()).Scope(StatNames.ClusterFamily, "c").Histogram(stat ?? RqTime);

    [Fact]
    public void Snapshot_OneToHundred_CountsSumExtremesAndInterpolatedQuantiles()
    {
        var histogram = Create();
        for (var value = 1; value <= 100; value++)
        {
            histogram.Record(value);
        }

        var snapshot = histogram.Snapshot();

        Assert.Equal((100L, 5050d, 1d, 100d), (snapshot.Count, snapshot.Sum, snapshot.Min, snapshot.Max));
        // Buckets ≤0.5, ≤1, ≤5, ≤10, ≤25, ≤50, ≤100, then nothing above.
        Assert.Equal([0L, 1, 4, 5, 15, 25, 50], snapshot.BucketCounts.Take(7));
        Assert.All(snapshot.BucketCounts.Skip(7), count => Assert.Equal(0, count));
        Assert.Equal(StatName.DefaultBuckets.Count + 1, snapshot.BucketCounts.Count);
        Assert.Equal(1, snapshot.Quantile(0));
        Assert.Equal(50, snapshot.Quantile(0.5));
        Assert.Equal(75, snapshot.Quantile(0.75));
        Assert.Equal(100, snapshot.Quantile(1));
    }

    [Fact]
    public void Record_ValueOnABound_CountsInThatBucketAndAboveTheLastInOverflow()
    {
        var histogram = Create(StatName.Histogram("t", "test", "ms", [1, 5]));

        histogram.Record(5);
        histogram.Record(7);
        histogram.Record(double.NaN);

        var snapshot = histogram.Snapshot();
        Assert.Equal([0L, 1, 1], snapshot.BucketCounts);
        Assert.Equal(2, snapshot.Count);
        Assert.Equal(7, snapshot.Quantile(1));
    }

    [Fact]
    public void Snapshot_NothingRecorded_IsEmptyWithNaNQuantiles()
    {
        var snapshot = Create().Snapshot();

        Assert.Equal(0, snapshot.Count);
        Assert.True(double.IsNaN(snapshot.Quantile(0.5)));
        Assert.True(double.IsNaN(snapshot.Min));
    }

    [Fact]
    public async Task Record_Concurrently_LosesNothing()
    {
        var histogram = Create();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                histogram.Record(2);
            }
        })));

        var snapshot = histogram.Snapshot();
        Assert.Equal((40_000L, 80_000d), (snapshot.Count, snapshot.Sum));
    }

    [Fact]
    public void Histogram_BoundsNotAscending_Throws()
    {
        Assert.Throws<ArgumentException>(() => StatName.Histogram("t", "test", "ms", [5, 1]));
    }
}
