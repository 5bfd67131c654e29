namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// An HPACK dynamic table (RFC 7541 §2.3.2, §4): newest entry first, each costing its name and value octets plus 32,
/// evicting the oldest entries to stay within <see cref="MaxSize"/>. The encoder and the decoder each keep one.
/// </summary>
internal sealed class HpackDynamicTable(int maxSize)
{
    /// <summary>The per-entry overhead of RFC 7541 §4.1.</summary>
    public const int EntryOverhead = 32;

    private readonly List<KeyValuePair<string, string>> _entries = [];

    public int MaxSize { get; private set; } = maxSize;

    /// <summary>The sum of the entries' sizes.</summary>
    public int Size { get; private set; }

    public int Count => _entries.Count;

    /// <summary>The entry at 0-based <paramref name="index"/> (0 = newest, HPACK index 62).</summary>
    public KeyValuePair<string, string> this[int index] => _entries[index];

    public static int SizeOf(string name, string value) => name.Length + value.Length + EntryOverhead;

    /// <summary>Adds an entry, evicting older ones; an entry larger than the table empties it and is not added (§4.4).</summary>
    public void Add(string name, string value)
    {
        var size = SizeOf(name, value);
        EvictTo(MaxSize - size);
        if (size <= MaxSize)
        {
            _entries.Insert(0, new(name, value));
            Size += size;
        }
    }

    /// <summary>Applies a dynamic table size update (§6.3), evicting what no longer fits.</summary>
    public void Resize(int maxSize)
    {
        MaxSize = maxSize;
        EvictTo(maxSize);
    }

    private void EvictTo(int size)
    {
        while (Size > Math.Max(size, 0) && _entries.Count > 0)
        {
            var oldest = _entries[^1];
            _entries.RemoveAt(_entries.Count - 1);
            Size -= SizeOf(oldest.Key, oldest.Value);
        }
    }
}
