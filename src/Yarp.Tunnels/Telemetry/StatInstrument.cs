using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// The Meter instrument of one metric in one family (<c>yarp.tunnels.{family}.{metric}</c>) and every series of it: one
/// per scope (object name plus extra tags) and stat (the stats of a metric differ by their name tags) that was touched.
/// </summary>
internal sealed class StatInstrument
{
    private readonly ConcurrentQueue<StatCounter> _counters = new();
    private readonly ConcurrentQueue<StatHistogram> _histograms = new();

    public StatInstrument(Meter meter, string family, StatName stat)
    {
        Family = family;
        Stat = stat;
        var name = $"yarp.tunnels.{family}.{stat.Metric}";
        switch (stat.Kind)
        {
            case StatKind.Counter:
                meter.CreateObservableCounter(name, Observe, stat.Unit, stat.Description);
                break;
            case StatKind.Gauge:
                meter.CreateObservableUpDownCounter(name, Observe, stat.Unit, stat.Description);
                break;
            default:
                Histogram = meter.CreateHistogram(name, stat.Unit, stat.Description, tags: null,
                    new InstrumentAdvice<double> { HistogramBucketBoundaries = stat.Buckets });
                break;
        }
    }

    public string Family { get; }

    /// <summary>The first declaration seen for the metric: its kind, unit, description and buckets apply to all its stats.</summary>
    public StatName Stat { get; }

    /// <summary>The instrument histograms record into; null for counters and gauges.</summary>
    public Histogram<double>? Histogram { get; }

    public IEnumerable<StatCounter> Counters => _counters;

    public IEnumerable<StatHistogram> Histograms => _histograms;

    public void Add(StatCounter counter) => _counters.Enqueue(counter);

    public void Add(StatHistogram histogram) => _histograms.Enqueue(histogram);

    private IEnumerable<Measurement<long>> Observe()
    {
        foreach (var counter in _counters)
        {
            yield return new Measurement<long>(counter.Value, counter.MeterTags);
        }
    }
}
