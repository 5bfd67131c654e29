using System.Collections.Concurrent;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>The internal listener names a host binds from code (<c>ListenInternal</c>), known before Kestrel starts.</summary>
internal sealed class CodeBoundInternalListeners
{
    private readonly ConcurrentDictionary<string, byte> _names = new(StringComparer.Ordinal);

    public void Add(string name) => _names.TryAdd(name, 0);

    public bool Contains(string name) => _names.ContainsKey(name);
}
