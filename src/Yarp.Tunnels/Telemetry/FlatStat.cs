namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// One line of the Envoy flat view: a flat name with the sum of its tagged series (histograms merged). Names containing
/// <c>.</c> stay as they are, as in Envoy; two different objects whose flat names coincide add up here, which only the
/// structured samples (and the Prometheus rendering) tell apart.
/// </summary>
internal sealed record FlatStat(string Name, StatKind Kind, long Value, HistogramSnapshot? Histogram)
{
    private static readonly Comparer<(string Name, StatKind Kind)> Order = Comparer<(string Name, StatKind Kind)>.Create(
        static (a, b) => string.CompareOrdinal(a.Name, b.Name) is var byName and not 0 ? byName : a.Kind.CompareTo(b.Kind));

    /// <summary>The flat view of <paramref name="samples"/>, sorted by name.</summary>
    public static IReadOnlyList<FlatStat> Aggregate(IEnumerable<StatSample> samples)
    {
        var byName = new SortedDictionary<(string Name, StatKind Kind), FlatStat>(Order);
        foreach (var sample in samples)
        {
            var key = (sample.FlatName, sample.Kind);
            byName[key] = byName.TryGetValue(key, out var seen)
                ? seen with
                {
                    Value = seen.Value + sample.Value,
                    Histogram = seen.Histogram is null ? sample.Histogram : HistogramSnapshot.Merge(seen.Histogram, sample.Histogram!),
                }
                : new FlatStat(sample.FlatName, sample.Kind, sample.Value, sample.Histogram);
        }
        return [.. byName.Values];
    }
}
