namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// Thrown when a connection is opened to an internal listener name that is not bound (never configured, stopped or removed).
/// </summary>
public sealed class InternalListenerNotFoundException : IOException
{
    /// <summary>Creates the exception for <paramref name="listenerName"/>.</summary>
    public InternalListenerNotFoundException(string listenerName)
        : base($"No internal listener named '{listenerName}' is bound.")
    {
        ListenerName = listenerName;
    }

    /// <summary>The name that was not found.</summary>
    public string ListenerName { get; }
}
