namespace Yarp.Tunnels.Telemetry;

/// <summary>The kind of a Yarp.Tunnels statistic, declared with its name.</summary>
public enum StatKind
{
    /// <summary>A monotonic count (Envoy counter; an OpenTelemetry <c>ObservableCounter</c>).</summary>
    Counter,

    /// <summary>A value that goes up and down (Envoy gauge; an OpenTelemetry <c>ObservableUpDownCounter</c>).</summary>
    Gauge,

    /// <summary>A distribution of recorded values (Envoy histogram; an OpenTelemetry <c>Histogram</c>).</summary>
    Histogram,
}
