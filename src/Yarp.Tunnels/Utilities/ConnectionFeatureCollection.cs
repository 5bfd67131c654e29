using System.Collections;
using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Utilities;

/// <summary>
/// The feature collection of a connection accepted by one of our transports: a handful of features in a small array,
/// found by reference comparison of their types. Kestrel asks a connection's collection for every request feature it
/// does not hold itself (our listener, CONNECT and internal-connection features, and every lookup that finds nothing),
/// several times per request; a dictionary's hashing and comparer calls cost more than this scan.
/// </summary>
internal sealed class ConnectionFeatureCollection : IFeatureCollection
{
    private KeyValuePair<Type, object>[] _features = new KeyValuePair<Type, object>[12];
    private int _count;
    private int _revision;

    public bool IsReadOnly => false;

    public int Revision => _revision;

    public object? this[Type key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            var index = IndexOf(key);
            return index < 0 ? null : _features[index].Value;
        }
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            var index = IndexOf(key);
            if (value is null)
            {
                if (index >= 0)
                {
                    // The rest keep their order: features enumerate in the order they were set.
                    Array.Copy(_features, index + 1, _features, index, _count - index - 1);
                    _features[--_count] = default;
                    _revision++;
                }
                return;
            }
            if (index < 0)
            {
                if (_count == _features.Length)
                {
                    Array.Resize(ref _features, _count * 2);
                }
                index = _count++;
            }
            _features[index] = new(key, value);
            _revision++;
        }
    }

    public TFeature? Get<TFeature>() => this[typeof(TFeature)] is TFeature feature ? feature : default;

    public void Set<TFeature>(TFeature? instance) => this[typeof(TFeature)] = instance;

    public IEnumerator<KeyValuePair<Type, object>> GetEnumerator()
    {
        for (var i = 0; i < _count; i++)
        {
            yield return _features[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // Types are unique runtime objects: reference comparison is type equality, with no hashing or comparer calls.
    private int IndexOf(Type key)
    {
        for (var i = 0; i < _count; i++)
        {
            if (ReferenceEquals(_features[i].Key, key))
            {
                return i;
            }
        }
        return -1;
    }
}
