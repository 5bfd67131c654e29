namespace Yarp.Tunnels.Telemetry;

/// <summary>One counter or gauge of one scope (its kind is the declared <see cref="Stat"/>'s).</summary>
internal sealed class StatCounter
{
    private long _value;

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

    public void Increment() => Interlocked.Increment(ref _value);

    public void Decrement() => Interlocked.Decrement(ref _value);

    public void Add(long amount) => Interlocked.Add(ref _value, amount);

    /// <summary>Sets a gauge to an absolute value (e.g. the number of destinations of a cluster).</summary>
    public void Set(long value)
    {
        if (Stat.Kind != StatKind.Gauge)
        {
            throw new InvalidOperationException($"'{Stat.Name}' is a counter; only gauges can be set.");
        }
        Volatile.Write(ref _value, value);
    }

    internal void Reset() => Volatile.Write(ref _value, 0);
}
