namespace Yarp.Tunnels.Configuration;

/// <summary>
/// The live state of this host's Yarp.Tunnels listeners, for admin endpoints and readiness checks. Resolve it from DI
/// after <c>AddTunnels</c>. Listeners are bound and unbound asynchronously after a configuration change.
/// </summary>
public interface IListenerStateProvider
{
    /// <summary>Every declared listener, and every removed one still draining, ordered by name.</summary>
    IReadOnlyList<ListenerStatus> GetListeners();
}
