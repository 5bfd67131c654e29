using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// The statistics of one object, rendered with the flat prefix <c>{Family}.{Name}.</c>
/// (e.g. <c>listener.envoy_internal_encap.</c>, <c>tcp.l1.</c>, <c>cluster.service1.</c>), optionally narrowed by extra
/// tags (<see cref="WithTag"/>).
/// </summary>
internal sealed partial class StatScope
{
    private readonly ConcurrentDictionary<string, StatCounter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StatHistogram> _histograms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Key, string Value), StatScope> _tagged = new();
    private readonly TunnelMetrics _owner;

    public StatScope(TunnelMetrics owner, string family, string name)
        : this(owner, family, name, [])
    {
    }

    private StatScope(TunnelMetrics owner, string family, string name, KeyValuePair<string, string>[] tags)
    {
        _owner = owner;
        Family = family;
        Name = name;
        Tags = Array.AsReadOnly(tags);
        MeterTags = [new(family, name), .. tags.Select(static tag => new KeyValuePair<string, object?>(tag.Key, tag.Value))];
    }

    public string Family { get; }

    public string Name { get; }

    /// <summary>The extra tags of this scope, in the order they were added; empty for the object's own scope.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; }

    /// <summary>The tags of every measurement of this scope: <c>{Family}={Name}</c>, then <see cref="Tags"/>.</summary>
    internal KeyValuePair<string, object?>[] MeterTags { get; }

    /// <summary>The tags of the measurements of <paramref name="stat"/> in this scope: <see cref="MeterTags"/>, then the stat's name tags.</summary>
    internal KeyValuePair<string, object?>[] MeterTagsOf(StatName stat) =>
        stat.NameTags.Count == 0
            ? MeterTags
            : [.. MeterTags, .. stat.NameTags.Select(static tag => new KeyValuePair<string, object?>(tag.Key, tag.Value))];

    /// <summary>The counter or gauge <paramref name="stat"/> of this scope, created on first use.</summary>
    public StatCounter this[StatName stat] => _counters.TryGetValue(stat.Name, out var counter) ? counter : CreateCounter(stat);

    /// <summary>The histogram <paramref name="stat"/> of this scope, created on first use.</summary>
    public StatHistogram Histogram(StatName stat) =>
        _histograms.TryGetValue(stat.Name, out var histogram) ? histogram : CreateHistogram(stat);

    /// <summary>
    /// The child scope whose stats carry the extra tag <paramref name="key"/>=<paramref name="value"/> (cached: the same
    /// key and value give the same scope). Its series appear separately in the Meter, the structured snapshot and the
    /// Prometheus rendering; the Envoy flat name (<c>{Family}.{Name}.{stat}</c>) shows the sum over all tag values.
    /// </summary>
    /// <remarks>
    /// <paramref name="key"/> must be a Prometheus label name (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>), not reserved (<c>le</c>,
    /// <c>__*</c>, <c>envoy_*</c>), not the family name and not a key this scope already carries; the value must not be empty.
    /// </remarks>
    public StatScope WithTag(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(value);
        return _tagged.TryGetValue((key, value), out var scope)
            ? scope
            : _tagged.GetOrAdd((key, value), static (tag, parent) => parent.CreateTagged(tag.Key, tag.Value), this);
    }

    /// <summary>The flat value of a counter or gauge: this scope's own plus every tagged child's.</summary>
    public long Sum(string stat)
    {
        var sum = _counters.TryGetValue(stat, out var counter) ? counter.Value : 0;
        foreach (var child in _tagged.Values)
        {
            sum += child.Sum(stat);
        }
        return sum;
    }

    private StatCounter CreateCounter(StatName stat)
    {
        if (stat.Kind == StatKind.Histogram)
        {
            throw new InvalidOperationException($"'{stat.Name}' is a histogram; use StatScope.Histogram().");
        }

        var instrument = _owner.Instrument(Family, stat);
        var created = new StatCounter(this, stat);
        var counter = _counters.GetOrAdd(stat.Name, created);
        if (ReferenceEquals(counter, created))
        {
            instrument.Add(counter);
        }
        return counter;
    }

    private StatHistogram CreateHistogram(StatName stat)
    {
        if (stat.Kind != StatKind.Histogram)
        {
            throw new InvalidOperationException($"'{stat.Name}' is a {stat.Kind.ToString().ToLowerInvariant()}; use the indexer.");
        }

        var instrument = _owner.Instrument(Family, stat);
        var created = new StatHistogram(this, stat, instrument);
        var histogram = _histograms.GetOrAdd(stat.Name, created);
        if (ReferenceEquals(histogram, created))
        {
            instrument.Add(histogram);
        }
        return histogram;
    }

    private StatScope CreateTagged(string key, string value)
    {
        if (!TagKey().IsMatch(key) || key == "le" || key.StartsWith("__", StringComparison.Ordinal)
            || key.StartsWith("envoy_", StringComparison.Ordinal) || key == Family || Tags.Any(tag => tag.Key == key))
        {
            throw new ArgumentException(
                $"Stat tag key '{key}' is not allowed on '{Family}.{Name}': use a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*) " +
                "that is not 'le', does not start with '__' or 'envoy_', is not the family name and is not already set.", nameof(key));
        }
        return new StatScope(_owner, Family, Name, [.. Tags, new(key, value)]);
    }

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex TagKey();
}
