namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// Reads the host's Yarp.Tunnels statistics (resolve it from the host's services). Each host has its own statistics,
/// also published as the instruments of its <see cref="MeterName"/> meter.
/// </summary>
/// <remarks>
/// Naming rule: stat <c>{stat}</c> of object <c>{name}</c> in family <c>{family}</c> (<c>listener</c>, <c>tcp</c>,
/// <c>cluster</c>, <c>http</c>) is the instrument <c>yarp.tunnels.{family}.{stat}</c> with the tag <c>{family}={name}</c>
/// plus any extra tags, and the Envoy flat name <c>{family}.{name}.{stat}</c>.
/// </remarks>
public sealed class TunnelStatistics
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> every host publishes its statistics on.</summary>
    public const string MeterName = "Yarp.Tunnels";

    private readonly TunnelMetrics _metrics;

    internal TunnelStatistics(TunnelMetrics metrics)
    {
        _metrics = metrics;
    }

    /// <summary>
    /// Every series of every statistic at this moment, sorted by flat name then tags: counters, gauges and histograms,
    /// one sample per object and combination of extra tags.
    /// </summary>
    public IReadOnlyList<StatSample> Snapshot() => _metrics.Samples();
}
