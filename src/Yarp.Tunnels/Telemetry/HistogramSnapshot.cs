namespace Yarp.Tunnels.Telemetry;

/// <summary>The recorded values of one histogram at one moment: bucket counts, count, sum, minimum and maximum.</summary>
public sealed class HistogramSnapshot
{
    internal HistogramSnapshot(IReadOnlyList<double> bucketBounds, long[] bucketCounts, double sum, double min, double max)
    {
        BucketBounds = bucketBounds;
        BucketCounts = Array.AsReadOnly(bucketCounts);
        Sum = sum;
        Min = min;
        Max = max;
        foreach (var count in bucketCounts)
        {
            Count += count;
        }
    }

    /// <summary>The buckets' inclusive upper bounds, ascending (Prometheus <c>le</c>); the last bucket (+Inf) is implicit.</summary>
    public IReadOnlyList<double> BucketBounds { get; }

    /// <summary>
    /// The number of values in each bucket (not cumulative): <c>BucketCounts[i]</c> counts values in
    /// (<c>BucketBounds[i-1]</c>, <c>BucketBounds[i]</c>]; it has one more entry than <see cref="BucketBounds"/>, for values
    /// above the last bound.
    /// </summary>
    public IReadOnlyList<long> BucketCounts { get; }

    /// <summary>The number of recorded values.</summary>
    public long Count { get; }

    /// <summary>The sum of the recorded values.</summary>
    public double Sum { get; }

    /// <summary>The smallest recorded value, or <see cref="double.NaN"/> when nothing was recorded.</summary>
    public double Min { get; }

    /// <summary>The largest recorded value, or <see cref="double.NaN"/> when nothing was recorded.</summary>
    public double Max { get; }

    /// <summary>
    /// Estimates the value at quantile <paramref name="quantile"/> (0 to 1) by linear interpolation inside its bucket,
    /// clamped to [<see cref="Min"/>, <see cref="Max"/>]; <see cref="double.NaN"/> when nothing was recorded.
    /// </summary>
    public double Quantile(double quantile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quantile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantile, 1);
        if (Count == 0)
        {
            return double.NaN;
        }

        var rank = quantile * Count;
        long before = 0;
        for (var i = 0; i < BucketCounts.Count; i++)
        {
            var inBucket = BucketCounts[i];
            if (inBucket > 0 && before + inBucket >= rank)
            {
                var lower = Math.Max(i == 0 ? Min : BucketBounds[i - 1], Min);
                var upper = Math.Min(i < BucketBounds.Count ? BucketBounds[i] : Max, Max);
                return lower + (upper - lower) * Math.Clamp((rank - before) / inBucket, 0, 1);
            }
            before += inBucket;
        }
        return Max;
    }

    /// <summary>Adds two snapshots of histograms with the same bounds (the tagged series behind one flat name).</summary>
    internal static HistogramSnapshot Merge(HistogramSnapshot a, HistogramSnapshot b)
    {
        var counts = new long[a.BucketCounts.Count];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = a.BucketCounts[i] + b.BucketCounts[i];
        }
        return new HistogramSnapshot(a.BucketBounds, counts, a.Sum + b.Sum, MinOf(a.Min, b.Min), MaxOf(a.Max, b.Max));
    }

    private static double MinOf(double a, double b) => double.IsNaN(a) ? b : double.IsNaN(b) ? a : Math.Min(a, b);

    private static double MaxOf(double a, double b) => double.IsNaN(a) ? b : double.IsNaN(b) ? a : Math.Max(a, b);
}
