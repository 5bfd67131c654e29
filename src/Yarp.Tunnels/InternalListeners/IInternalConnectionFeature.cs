namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// Describes a connection accepted by an internal listener. Readable from <c>ConnectionContext.Features</c> and,
/// for HTTP served on the listener, from <c>HttpContext.Features</c>.
/// </summary>
public interface IInternalConnectionFeature
{
    /// <summary>The internal listener that accepted the connection.</summary>
    string ListenerName { get; }

    /// <summary>The endpoint id of the destination that opened the connection (explicit or derived from the destination id), if any.</summary>
    string? EndpointId { get; }

    /// <summary>Destination and cluster metadata passed through, keyed by metadata key.</summary>
    IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Shared state passed from the downstream connection, keyed by item key.</summary>
    IReadOnlyDictionary<string, SharedState> State { get; }
}
