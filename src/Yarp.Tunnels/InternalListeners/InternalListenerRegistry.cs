using System.Collections.Concurrent;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// The names of the internal listeners reachable in a process. Every host that shares a registry can connect to the
/// listeners of the others (a front host reaches its sidecar hosts); tests use isolated registries.
/// </summary>
public sealed class InternalListenerRegistry
{
    private readonly ConcurrentDictionary<string, InternalListenerRegistration> _listeners = new(StringComparer.Ordinal);

    /// <summary>The process-wide registry used unless a host is given its own.</summary>
    public static InternalListenerRegistry Shared { get; } = new();

    /// <summary>The names currently bound.</summary>
    public IReadOnlyCollection<string> Names => (IReadOnlyCollection<string>)_listeners.Keys;

    /// <summary>Whether <paramref name="name"/> is bound.</summary>
    public bool Contains(string name) => _listeners.ContainsKey(name);

    /// <summary>
    /// Opens a connection to the internal listener <paramref name="name"/>. It completes at once: no sockets, no syscalls.
    /// </summary>
    /// <exception cref="InternalListenerNotFoundException">No listener of that name is bound.</exception>
    /// <exception cref="InternalListenerBusyException">The listener is bound, but its backlog of connections waiting to be accepted is full.</exception>
    public InternalStream Connect(string name, InternalConnectOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_listeners.TryGetValue(name, out var listener))
        {
            throw new InternalListenerNotFoundException(name);
        }
        return listener.Connect(options);
    }

    internal bool TryGet(string name, out InternalListenerRegistration registration) => _listeners.TryGetValue(name, out registration!);

    internal void Add(InternalListenerRegistration registration)
    {
        if (!_listeners.TryAdd(registration.Name, registration))
        {
            throw new InvalidOperationException($"An internal listener named '{registration.Name}' is already bound.");
        }
    }

    internal bool Remove(InternalListenerRegistration registration) =>
        _listeners.TryRemove(new KeyValuePair<string, InternalListenerRegistration>(registration.Name, registration));
}
