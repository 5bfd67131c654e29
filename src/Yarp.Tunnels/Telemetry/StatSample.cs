namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// One series of one statistic at the moment of a <see cref="TunnelStatistics.Snapshot"/>: the object it belongs to,
/// the stat, its kind, its extra tags, and its value (or histogram).
/// </summary>
/// <remarks>
/// <see cref="Family"/>, <see cref="Name"/>, <see cref="Stat"/> and <see cref="Tags"/> stay separate, so a listener or
/// cluster name containing <c>.</c> is never ambiguous here, unlike in the Envoy flat name <see cref="FlatName"/>.
/// </remarks>
public sealed class StatSample
{
    internal StatSample(
        string family, string name, string stat, StatKind kind, IReadOnlyList<KeyValuePair<string, string>> tags,
        long value, HistogramSnapshot? histogram, string? unit, string description)
    {
        Family = family;
        Name = name;
        Stat = stat;
        Kind = kind;
        Tags = tags;
        Value = value;
        Histogram = histogram;
        Unit = unit;
        Description = description;
    }

    /// <summary>The family: <c>listener</c>, <c>tcp</c>, <c>cluster</c> or <c>http</c>.</summary>
    public string Family { get; }

    /// <summary>The object name: a listener scope name (<c>envoy_internal_&lt;name&gt;</c> for an internal listener), a stat prefix or a cluster id.</summary>
    public string Name { get; }

    /// <summary>The stat as Envoy spells it, e.g. <c>downstream_cx_total</c>.</summary>
    public string Stat { get; }

    /// <summary>The Envoy-style flat name <c>{Family}.{Name}.{Stat}</c> (the same for every tagged series of the stat).</summary>
    public string FlatName => $"{Family}.{Name}.{Stat}";

    /// <summary>The OpenTelemetry instrument name on the <see cref="TunnelStatistics.MeterName"/> meter: <c>yarp.tunnels.{Family}.{Stat}</c>.</summary>
    public string InstrumentName => $"yarp.tunnels.{Family}.{Stat}";

    /// <summary>Counter, gauge or histogram, as declared.</summary>
    public StatKind Kind { get; }

    /// <summary>The extra tags of this series (e.g. <c>upgrade_type=websocket</c>); empty for the object's own series.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; }

    /// <summary>The value of a counter or gauge; for a histogram, the number of recorded values.</summary>
    public long Value { get; }

    /// <summary>The recorded values of a histogram; null for counters and gauges.</summary>
    public HistogramSnapshot? Histogram { get; }

    /// <summary>The unit (<c>By</c>, <c>ms</c>), or null for a plain count.</summary>
    public string? Unit { get; }

    /// <summary>What the stat counts.</summary>
    public string Description { get; }
}
