namespace Yarp.Tunnels.Configuration;

/// <summary>Where a listener of <c>ReverseProxy:Listeners</c> (or <see cref="TunnelListenerOptions"/>) stands.</summary>
public enum ListenerState
{
    /// <summary>Declared, not serving yet (e.g. an HTTP listener waiting for Kestrel to bind the endpoint that serves it).</summary>
    Starting,

    /// <summary>Bound and serving.</summary>
    Bound,

    /// <summary>Removed or changed: accepts nothing new; its open connections are finishing within its <c>DrainTimeout</c>.</summary>
    Draining,

    /// <summary>Could not be bound (see <see cref="ListenerStatus.Error"/>); retried on the next configuration change.</summary>
    Failed,
}
