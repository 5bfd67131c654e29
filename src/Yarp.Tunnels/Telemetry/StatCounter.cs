namespace Yarp.Tunnels.Telemetry;

/// <summary>One Envoy-style statistic: a counter, or a gauge when its name ends in <c>_active</c>.</summary>
internal sealed class StatCounter
{
    private long _value;

    public long Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);

    public void Decrement() => Interlocked.Decrement(ref _value);

    public void Add(long amount) => Interlocked.Add(ref _value, amount);
}
