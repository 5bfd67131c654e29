using System.Diagnostics.Metrics;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// One histogram of one scope: bucket counts kept here for the admin renderings, and every value recorded on the
/// host's <see cref="Histogram{T}"/> instrument (with the scope's tags) for OpenTelemetry.
/// </summary>
internal sealed class StatHistogram
{
    private readonly IReadOnlyList<double> _boundList;
    private readonly double[] _bounds;
    private readonly long[] _buckets;
    private readonly Histogram<double> _instrument;
    private readonly KeyValuePair<string, object?>[] _meterTags;
    private double _sum;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;

    /// <summary>A histogram of <paramref name="scope"/>, with the bucket bounds of its metric's first declaration.</summary>
    public StatHistogram(StatScope scope, StatName stat, StatInstrument instrument)
    {
        Scope = scope;
        Stat = stat;
        _instrument = instrument.Histogram!;
        _meterTags = scope.MeterTagsOf(stat);
        _boundList = instrument.Stat.Buckets;
        _bounds = [.. _boundList];
        _buckets = new long[_bounds.Length + 1];
    }

    public StatScope Scope { get; }

    public StatName Stat { get; }

    /// <summary>Records one value (in the declared unit); NaN is ignored.</summary>
    public void Record(double value)
    {
        if (double.IsNaN(value))
        {
            return;
        }

        var index = Array.BinarySearch(_bounds, value);
        Interlocked.Increment(ref _buckets[index >= 0 ? index : ~index]);
        InterlockedAdd(ref _sum, value);
        InterlockedReplace(ref _min, value, static (v, current) => v < current);
        InterlockedReplace(ref _max, value, static (v, current) => v > current);
        _instrument.Record(value, _meterTags);
    }

    public HistogramSnapshot Snapshot()
    {
        var counts = new long[_buckets.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Volatile.Read(ref _buckets[i]);
        }
        var min = Volatile.Read(ref _min);
        var max = Volatile.Read(ref _max);
        return new HistogramSnapshot(
            _boundList, counts, Volatile.Read(ref _sum),
            double.IsPositiveInfinity(min) ? double.NaN : min,
            double.IsNegativeInfinity(max) ? double.NaN : max);
    }

    private static void InterlockedAdd(ref double target, double value)
    {
        var current = Volatile.Read(ref target);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref target, current + value, current);
            if (seen.Equals(current))
            {
                return;
            }
            current = seen;
        }
    }

    /// <summary>Replaces <paramref name="target"/> with <paramref name="value"/> while <paramref name="replaces"/> holds.</summary>
    private static void InterlockedReplace(ref double target, double value, Func<double, double, bool> replaces)
    {
        var current = Volatile.Read(ref target);
        while (replaces(value, current))
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen.Equals(current))
            {
                return;
            }
            current = seen;
        }
    }
}
