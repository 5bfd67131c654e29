using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// The statistics of one host. Every host has its own instance (and its own <see cref="Meter"/> from its
/// <see cref="IMeterFactory"/>), so hosts sharing a process never mix counters.
/// </summary>
/// <remarks>
/// Naming rule: a statistic <c>{stat}</c> of object <c>{name}</c> in family <c>{family}</c> (listener, tcp, cluster, http)
/// is the instrument <c>yarp.tunnels.{family}.{stat}</c> with the tag <c>{family}={name}</c>, and renders as the
/// Envoy-style flat name <c>{family}.{name}.{stat}</c>.
/// </remarks>
internal sealed class TunnelMetrics
{
    /// <summary>The name of the meter every host publishes.</summary>
    public const string MeterName = "Yarp.Tunnels";

    private readonly ConcurrentDictionary<(string Family, string Name), StatScope> _scopes = new();
    private readonly ConcurrentDictionary<(string Family, string Stat), byte> _instruments = new();
    private readonly Meter _meter;

    public TunnelMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
    }

    public Meter Meter => _meter;

    public StatScope Scope(string family, string name) =>
        _scopes.GetOrAdd((family, name), static (key, self) => new StatScope(self, key.Family, key.Name), this);

    public ListenerStats Listener(string scopeName) => new(Scope(StatNames.ListenerFamily, scopeName));

    /// <summary>Every statistic of this host by flat name, sorted.</summary>
    public SortedDictionary<string, long> Snapshot()
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var scope in _scopes.Values)
        {
            foreach (var (stat, counter) in scope.Stats)
            {
                result[$"{scope.Family}.{scope.Name}.{stat}"] = counter.Value;
            }
        }
        return result;
    }

    /// <summary>The value of one flat-named statistic, or 0 when it was never touched.</summary>
    public long Get(string family, string name, string stat) =>
        _scopes.TryGetValue((family, name), out var scope) && scope.TryGet(stat, out var counter) ? counter.Value : 0;

    internal void EnsureInstrument(string family, string stat)
    {
        if (!_instruments.TryAdd((family, stat), 0))
        {
            return;
        }

        var instrument = $"yarp.tunnels.{family}.{stat}";
        if (StatNames.IsGauge(stat))
        {
            _meter.CreateObservableUpDownCounter(instrument, () => Observe(family, stat));
        }
        else
        {
            _meter.CreateObservableCounter(instrument, () => Observe(family, stat));
        }
    }

    private IEnumerable<Measurement<long>> Observe(string family, string stat)
    {
        foreach (var scope in _scopes.Values)
        {
            if (scope.Family == family && scope.TryGet(stat, out var counter))
            {
                yield return new Measurement<long>(counter.Value, new KeyValuePair<string, object?>(family, scope.Name));
            }
        }
    }
}
