namespace Yarp.Tunnels.Telemetry;

/// <summary>One counter or gauge of one scope (its kind is the declared <see cref="Stat"/>'s).</summary>
internal sealed class StatCounter
{
    private long _value;
    private bool _used;

    public StatCounter(StatScope scope, StatName stat)
    {
        Scope = scope;
        Stat = stat;
        MeterTags = scope.MeterTagsOf(stat);
    }

    public StatScope Scope { get; }

    public StatName Stat { get; }

    /// <summary>The tags of this series' measurements: the scope's, then the stat's name tags.</summary>
    public KeyValuePair<string, object?>[] MeterTags { get; }

    public long Value => Volatile.Read(ref _value);

    /// <summary>Whether the stat was ever updated (Envoy's <c>usedonly</c>); a stat created only to show 0 is not.</summary>
    public bool Used => Volatile.Read(ref _used);

    public void Increment()
    {
        Interlocked.Increment(ref _value);
        MarkUsed();
    }

    public void Decrement()
    {
        Interlocked.Decrement(ref _value);
        MarkUsed();
    }

    public void Add(long amount)
    {
        Interlocked.Add(ref _value, amount);
        MarkUsed();
    }

    /// <summary>Sets a gauge to an absolute value (e.g. the number of destinations of a cluster).</summary>
    public void Set(long value)
    {
        if (Stat.Kind != StatKind.Gauge)
        {
            throw new InvalidOperationException($"'{Stat.Name}' is a counter; only gauges can be set.");
        }
        Volatile.Write(ref _value, value);
        MarkUsed();
    }

    /// <summary>Zeroes a counter (<c>/reset_counters</c>); it stays used, as in Envoy.</summary>
    internal void Reset() => Volatile.Write(ref _value, 0);

    // Read first so the hot path does not write the flag again once set.
    private void MarkUsed()
    {
        if (!_used)
        {
            Volatile.Write(ref _used, true);
        }
    }
}
