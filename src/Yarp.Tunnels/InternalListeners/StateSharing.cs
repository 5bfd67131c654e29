namespace Yarp.Tunnels.InternalListeners;

/// <summary>How a <see cref="SharedState"/> item travels across internal listener hops (Envoy's filter-state sharing).</summary>
public enum StateSharing
{
    /// <summary>Copied to the first internal connection opened on behalf of the connection that holds it, not beyond.</summary>
    Once,

    /// <summary>Copied through every internal listener hop of a chain.</summary>
    Transitive,
}
