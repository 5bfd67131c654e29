namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// Thrown when a connection is opened to an internal listener that is bound but has too many connections waiting for
/// it to accept them (like a full listen backlog): the listener is overloaded, not missing.
/// </summary>
public sealed class InternalListenerBusyException : IOException
{
    /// <summary>Creates the exception for <paramref name="listenerName"/>, whose backlog holds <paramref name="backlog"/> connections.</summary>
    public InternalListenerBusyException(string listenerName, int backlog)
        : base($"The internal listener '{listenerName}' is busy: its backlog of {backlog} connections waiting to be accepted is full.")
    {
        ListenerName = listenerName;
        Backlog = backlog;
    }

    /// <summary>The listener that refused the connection.</summary>
    public string ListenerName { get; }

    /// <summary>How many connections its backlog holds.</summary>
    public int Backlog { get; }
}
