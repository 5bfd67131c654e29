namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// The declaration of one statistic: its Envoy name, kind, unit and description (and a histogram's bucket bounds).
/// Declared once, in <see cref="StatNames"/>, so the kind is never guessed from the name.
/// </summary>
/// <remarks>
/// A stat whose Envoy name embeds a value (<c>upstream_rq_200</c>) also names the <see cref="Metric"/> without it
/// (<c>upstream_rq</c>) and carries the value as a tag (<c>envoy_response_code=200</c>), as Envoy's tag extraction
/// does: OpenTelemetry and Prometheus then see one metric with a tag, the flat name keeps Envoy's spelling.
/// </remarks>
internal sealed class StatName
{
    /// <summary>Envoy's default histogram bucket bounds (in the histogram's unit, usually milliseconds).</summary>
    public static readonly IReadOnlyList<double> DefaultBuckets =
        [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000];

    private StatName(string name, StatKind kind, string description, string? unit, IReadOnlyList<double>? buckets,
        string? metric = null, KeyValuePair<string, string>? nameTag = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Kind = kind;
        Description = description;
        Unit = unit;
        Buckets = buckets is null ? [] : [.. buckets];
        Metric = metric ?? name;
        NameTags = nameTag is { } tag ? [tag] : [];
    }

    /// <summary>The stat as Envoy spells it, the last part of the flat name <c>{family}.{object}.{stat}</c>.</summary>
    public string Name { get; }

    /// <summary>The metric the stat belongs to: <see cref="Name"/> without the value it embeds (see <see cref="NameTags"/>).</summary>
    public string Metric { get; }

    /// <summary>The tags the name embeds (<c>envoy_response_code=200</c> for <c>upstream_rq_200</c>); usually empty.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> NameTags { get; }

    public StatKind Kind { get; }

    public string Description { get; }

    /// <summary>The unit in UCUM form as OpenTelemetry expects (<c>By</c>, <c>ms</c>), or null for a plain count.</summary>
    public string? Unit { get; }

    /// <summary>A histogram's bucket upper bounds, ascending; empty for counters and gauges.</summary>
    public IReadOnlyList<double> Buckets { get; }

    public static StatName Counter(string name, string description, string? unit = null) => new(name, StatKind.Counter, description, unit, null);

    /// <summary>A counter whose Envoy name <paramref name="name"/> embeds <paramref name="tagValue"/>: metric <paramref name="metric"/> with that tag.</summary>
    public static StatName TaggedCounter(string name, string metric, string tagKey, string tagValue, string description) =>
        new(name, StatKind.Counter, description, null, null, metric, new(tagKey, tagValue));

    public static StatName Gauge(string name, string description, string? unit = null) => new(name, StatKind.Gauge, description, unit, null);

    public static StatName Histogram(string name, string description, string unit, IReadOnlyList<double>? buckets = null)
    {
        buckets ??= DefaultBuckets;
        for (var i = 1; i < buckets.Count; i++)
        {
            if (!(buckets[i] > buckets[i - 1]))
            {
                throw new ArgumentException($"Histogram '{name}' bucket bounds must be strictly ascending.", nameof(buckets));
            }
        }
        return new(name, StatKind.Histogram, description, unit, buckets);
    }

    /// <summary>Lets a declared name stand where a stat string is expected (<c>metrics.Get(family, name, StatNames.X)</c>).</summary>
    public static implicit operator string(StatName stat) => stat.Name;

    public override string ToString() => Name;
}
