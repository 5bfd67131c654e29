using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Destinations;

/// <summary>
/// What keys an envoy-internal connection pool: the listener, the endpoint id, the passed metadata and the passed state.
/// State items compare as <see cref="SharedState"/> records (key, <see cref="SharedState.Sharing"/>, and the value's own
/// <see cref="object.Equals(object)"/> and <see cref="object.GetHashCode"/>), so two values of a class without an override
/// share connections only when they are the same object. Nothing is hashed into the identity: equal keys mean equal content.
/// </summary>
internal sealed class ConnectTargetKey : IEquatable<ConnectTargetKey>
{
    private readonly string _listenerName;
    private readonly string? _endpointId;
    private readonly string _metadata;
    private readonly KeyValuePair<string, SharedState>[] _state;
    private readonly int _hashCode;

    public ConnectTargetKey(string listenerName, string? endpointId, IReadOnlyDictionary<string, string>? metadata, IReadOnlyDictionary<string, SharedState>? state)
    {
        _listenerName = listenerName;
        _endpointId = endpointId;
        _metadata = Fingerprint.Of(metadata, static value => value);
        _state = state is null ? [] : state.OrderBy(item => item.Key, StringComparer.Ordinal).ToArray();

        var hash = new HashCode();
        hash.Add(listenerName, StringComparer.Ordinal);
        hash.Add(endpointId, StringComparer.Ordinal);
        hash.Add(_metadata, StringComparer.Ordinal);
        foreach (var (key, value) in _state)
        {
            hash.Add(key, StringComparer.Ordinal);
            hash.Add(value);
        }
        _hashCode = hash.ToHashCode();
    }

    public bool Equals(ConnectTargetKey? other)
    {
        if (other is null || other._hashCode != _hashCode || other._state.Length != _state.Length
            || !string.Equals(other._listenerName, _listenerName, StringComparison.Ordinal)
            || !string.Equals(other._endpointId, _endpointId, StringComparison.Ordinal)
            || !string.Equals(other._metadata, _metadata, StringComparison.Ordinal))
        {
            return false;
        }
        for (var i = 0; i < _state.Length; i++)
        {
            if (!string.Equals(other._state[i].Key, _state[i].Key, StringComparison.Ordinal) || !other._state[i].Value.Equals(_state[i].Value))
            {
                return false;
            }
        }
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as ConnectTargetKey);

    public override int GetHashCode() => _hashCode;
}
