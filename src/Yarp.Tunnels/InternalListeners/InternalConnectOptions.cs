namespace Yarp.Tunnels.InternalListeners;

/// <summary>What a client passes to the internal listener side when it opens a connection.</summary>
public sealed class InternalConnectOptions
{
    /// <summary>An id that tells apart several endpoints pointing at the same listener (Envoy's <c>endpoint_id</c>).</summary>
    public string? EndpointId { get; init; }

    /// <summary>Metadata delivered to the listener side.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>State delivered to the listener side.</summary>
    public IReadOnlyDictionary<string, SharedState>? State { get; init; }
}
