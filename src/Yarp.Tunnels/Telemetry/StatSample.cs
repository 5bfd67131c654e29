namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// One series of one statistic at the moment of a <see cref="TunnelStatistics.Snapshot"/>: the object it belongs to,
/// the stat, its kind, its tags, and its value (or histogram).
/// </summary>
/// <remarks>
/// <see cref="Family"/>, <see cref="Name"/>, <see cref="Stat"/> and <see cref="Tags"/> stay separate, so a listener or
/// cluster name containing <c>.</c> is never ambiguous here, unlike in the Envoy flat name <see cref="FlatName"/>.
/// </remarks>
public sealed class StatSample
{
    internal StatSample(string family, string name, StatName stat, IReadOnlyList<KeyValuePair<string, string>> scopeTags,
        long value, bool used, HistogramSnapshot? histogram)
    {
        Family = family;
        Name = name;
        Stat = stat.Name;
        Metric = stat.Metric;
        Kind = stat.Kind;
        Tags = stat.NameTags.Count == 0 ? scopeTags : [.. scopeTags, .. stat.NameTags];
        Value = value;
        Used = used;
        Histogram = histogram;
        Unit = stat.Unit;
        Description = stat.Description;
    }

    /// <summary>The family: <c>listener</c>, <c>tcp</c>, <c>cluster</c> or <c>http</c>.</summary>
    public string Family { get; }

    /// <summary>The object name: a listener scope name (<c>envoy_internal_&lt;name&gt;</c> for an internal listener), a stat prefix or a cluster id.</summary>
    public string Name { get; }

    /// <summary>The stat as Envoy spells it, e.g. <c>downstream_cx_total</c> or <c>upstream_rq_200</c>.</summary>
    public string Stat { get; }

    /// <summary>
    /// The metric the stat belongs to: <see cref="Stat"/> itself, or, for a stat whose name embeds a value, the name
    /// without it (<c>upstream_rq</c> for <c>upstream_rq_200</c>, the value being the tag <c>envoy_response_code=200</c>).
    /// </summary>
    public string Metric { get; }

    /// <summary>The Envoy-style flat name <c>{Family}.{Name}.{Stat}</c> (the same for every tagged series of the stat).</summary>
    public string FlatName => $"{Family}.{Name}.{Stat}";

    /// <summary>The OpenTelemetry instrument name on the <see cref="TunnelStatistics.MeterName"/> meter: <c>yarp.tunnels.{Family}.{Metric}</c>.</summary>
    public string InstrumentName => $"yarp.tunnels.{Family}.{Metric}";

    /// <summary>Counter, gauge or histogram, as declared.</summary>
    public StatKind Kind { get; }

    /// <summary>
    /// The tags of this series besides the object name: extra tags (e.g. <c>upgrade_type=websocket</c>), then the tags the
    /// stat name embeds (e.g. <c>envoy_response_code=200</c>); empty for most stats.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; }

    /// <summary>The value of a counter or gauge; for a histogram, the number of recorded values.</summary>
    public long Value { get; }

    /// <summary>
    /// Whether the stat was ever updated (a counter incremented, a gauge changed, a histogram recorded into), for Envoy's
    /// <c>usedonly</c>; stats that exist only to show 0 are not.
    /// </summary>
    public bool Used { get; }

    /// <summary>The recorded values of a histogram; null for counters and gauges.</summary>
    public HistogramSnapshot? Histogram { get; }

    /// <summary>The unit (<c>By</c>, <c>ms</c>), or null for a plain count.</summary>
    public string? Unit { get; }

    /// <summary>What the stat counts.</summary>
    public string Description { get; }
}
