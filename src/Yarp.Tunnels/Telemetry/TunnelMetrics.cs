using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// The statistics of one host. Every host has its own instance (and its own <see cref="Meter"/> from its
/// <see cref="IMeterFactory"/>), so hosts sharing a process never mix counters.
/// </summary>
/// <remarks>
/// Naming rule: a statistic <c>{stat}</c> of object <c>{name}</c> in family <c>{family}</c> (listener, tcp, cluster, http)
/// is the instrument <c>yarp.tunnels.{family}.{stat}</c> with the tag <c>{family}={name}</c> (plus the scope's extra
/// tags), and renders as the Envoy-style flat name <c>{family}.{name}.{stat}</c>.
/// </remarks>
internal sealed class TunnelMetrics
{
    /// <summary>The name of the meter every host publishes.</summary>
    public const string MeterName = TunnelStatistics.MeterName;

    private readonly ConcurrentDictionary<(string Family, string Name), StatScope> _scopes = new();
    private readonly ConcurrentDictionary<(string Family, string Metric), StatInstrument> _instruments = new();
    private readonly Lock _instrumentLock = new();
    private readonly Meter _meter;

    public TunnelMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
    }

    public Meter Meter => _meter;

    public StatScope Scope(string family, string name) =>
        _scopes.GetOrAdd((family, name), static (key, self) => new StatScope(self, key.Family, key.Name), this);

    public ListenerStats Listener(string scopeName) => new(Scope(StatNames.ListenerFamily, scopeName));

    /// <summary>Every counter and gauge of this host by flat name (tagged series summed into their flat name), sorted.</summary>
    public SortedDictionary<string, long> Snapshot()
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var stat in FlatStat.Aggregate(Samples()))
        {
            if (stat.Kind != StatKind.Histogram)
            {
                result[stat.Name] = result.GetValueOrDefault(stat.Name) + stat.Value;
            }
        }
        return result;
    }

    /// <summary>The flat value of one counter or gauge (the sum over its tagged series), or 0 when it was never touched.</summary>
    public long Get(string family, string name, string stat) =>
        _scopes.TryGetValue((family, name), out var scope) ? scope.Sum(stat) : 0;

    /// <summary>Every series of every stat of this host, sorted by flat name, then tags.</summary>
    public IReadOnlyList<StatSample> Samples()
    {
        var samples = new List<StatSample>();
        foreach (var instrument in _instruments.Values)
        {
            foreach (var counter in instrument.Counters)
            {
                samples.Add(new StatSample(instrument.Family, counter.Scope.Name, counter.Stat, counter.Scope.Tags, counter.Value, counter.Used, null));
            }
            foreach (var histogram in instrument.Histograms)
            {
                var values = histogram.Snapshot();
                samples.Add(new StatSample(instrument.Family, histogram.Scope.Name, histogram.Stat, histogram.Scope.Tags, values.Count, values.Count > 0, values));
            }
        }
        samples.Sort(static (a, b) =>
        {
            var byName = string.CompareOrdinal(a.FlatName, b.FlatName);
            return byName != 0 ? byName : string.CompareOrdinal(TagText(a), TagText(b));
        });
        return samples.AsReadOnly();
    }

    /// <summary>Sets every counter to zero (Envoy's <c>/reset_counters</c>); gauges and histograms keep their values.</summary>
    public void ResetCounters()
    {
        foreach (var instrument in _instruments.Values)
        {
            if (instrument.Stat.Kind == StatKind.Counter)
            {
                foreach (var counter in instrument.Counters)
                {
                    counter.Reset();
                }
            }
        }
    }

    /// <summary>The instrument of <paramref name="stat"/>'s metric in <paramref name="family"/>, created once; a metric used with two kinds is refused.</summary>
    internal StatInstrument Instrument(string family, StatName stat)
    {
        if (!_instruments.TryGetValue((family, stat.Metric), out var instrument))
        {
            lock (_instrumentLock)
            {
                if (!_instruments.TryGetValue((family, stat.Metric), out instrument))
                {
                    instrument = new StatInstrument(_meter, family, stat);
                    _instruments[(family, stat.Metric)] = instrument;
                }
            }
        }

        if (instrument.Stat.Kind != stat.Kind)
        {
            throw new InvalidOperationException(
                $"Stat '{family}.*.{stat.Name}' (metric '{stat.Metric}') is declared as a {instrument.Stat.Kind} and as a {stat.Kind}; declare each stat name once.");
        }
        return instrument;
    }

    private static string TagText(StatSample sample) => string.Join(',', sample.Tags.Select(static tag => $"{tag.Key}={tag.Value}"));
}
