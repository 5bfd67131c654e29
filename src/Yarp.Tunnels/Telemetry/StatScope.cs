using System.Collections.Concurrent;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// The statistics of one object, rendered with the flat prefix <c>{Family}.{Name}.</c>
/// (e.g. <c>listener.envoy_internal_encap.</c>, <c>tcp.l1.</c>, <c>cluster.service1.</c>).
/// </summary>
internal sealed class StatScope
{
    private readonly ConcurrentDictionary<string, StatCounter> _stats = new(StringComparer.Ordinal);
    private readonly TunnelMetrics _owner;

    public StatScope(TunnelMetrics owner, string family, string name)
    {
        _owner = owner;
        Family = family;
        Name = name;
    }

    public string Family { get; }

    public string Name { get; }

    public IEnumerable<KeyValuePair<string, StatCounter>> Stats => _stats;

    public StatCounter this[string stat] => _stats.TryGetValue(stat, out var counter) ? counter : Create(stat);

    public bool TryGet(string stat, out StatCounter counter) => _stats.TryGetValue(stat, out counter!);

    private StatCounter Create(string stat)
    {
        var counter = _stats.GetOrAdd(stat, static _ => new StatCounter());
        _owner.EnsureInstrument(Family, stat);
        return counter;
    }
}
