using System.Buffers;
using System.Text;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// Encodes header blocks for one connection (RFC 7541): a field already in a table is sent as an index, other fields
/// as literals added to the dynamic table (never indexed for credentials), with strings Huffman-coded when that is
/// shorter. A change of the peer's SETTINGS_HEADER_TABLE_SIZE is announced at the start of the next block.
/// </summary>
internal sealed class HpackEncoder
{
    /// <summary>The table size HPACK starts with, and the most this encoder uses whatever the peer allows.</summary>
    public const int DefaultTableSize = 4096;

    private readonly HpackDynamicTable _table;
    private readonly HuffmanPolicy _huffman;
    private int? _pendingSizeUpdate;

    /// <param name="huffman">When strings are Huffman-coded.</param>
    /// <param name="tableSize">The table size both sides already agreed on (RFC 7541 Appendix C.5 starts at 256).</param>
    public HpackEncoder(HuffmanPolicy huffman = HuffmanPolicy.WhenShorter, int tableSize = DefaultTableSize)
    {
        _huffman = huffman;
        _table = new HpackDynamicTable(tableSize);
    }

    /// <summary>When strings are Huffman-coded.</summary>
    public enum HuffmanPolicy
    {
        WhenShorter,
        Always,
        Never,
    }

    /// <summary>The encoder's dynamic table (tests inspect it).</summary>
    public HpackDynamicTable Table => _table;

    /// <summary>Applies the peer's SETTINGS_HEADER_TABLE_SIZE: the table shrinks (or grows up to <see cref="DefaultTableSize"/>) with the next block.</summary>
    public void SetPeerMaxTableSize(int peerMaxSize)
    {
        var size = Math.Min(peerMaxSize, DefaultTableSize);
        if (size != _table.MaxSize || _pendingSizeUpdate is not null)
        {
            // Several changes between two blocks announce the smallest size, then the final one (RFC 7541 §4.2).
            _pendingSizeUpdate = Math.Min(_pendingSizeUpdate ?? size, size);
            _table.Resize(size);
        }
    }

    /// <summary>Appends the block for <paramref name="fields"/> to <paramref name="output"/>; names must be lower case.</summary>
    public void Encode(IEnumerable<KeyValuePair<string, string>> fields, IBufferWriter<byte> output)
    {
        if (_pendingSizeUpdate is { } update)
        {
            if (update != _table.MaxSize)
            {
                WriteInteger(output, 0x20, 5, update);
            }
            WriteInteger(output, 0x20, 5, _table.MaxSize);
            _pendingSizeUpdate = null;
        }
        foreach (var (name, value) in fields)
        {
            var (exact, nameIndex) = Find(name, value);
            if (exact != 0)
            {
                WriteInteger(output, 0x80, 7, exact);
                continue;
            }
            if (IsSensitive(name))
            {
                // Never indexed (§6.2.3): credentials stay out of tables, ours and intermediaries'.
                WriteInteger(output, 0x10, 4, nameIndex);
            }
            else
            {
                WriteInteger(output, 0x40, 6, nameIndex);
                _table.Add(name, value);
            }
            if (nameIndex == 0)
            {
                WriteString(output, name);
            }
            WriteString(output, value);
        }
    }

    private static bool IsSensitive(string name) => name is "authorization" or "proxy-authorization";

    /// <summary>The HPACK index of an entry equal to the field (0 if none) and of the first entry with its name (0 if none); static entries first.</summary>
    private (int Exact, int Name) Find(string name, string value)
    {
        var nameIndex = 0;
        var statics = HpackStaticTable.Entries;
        for (var i = 0; i < statics.Length; i++)
        {
            if (statics[i].Key == name)
            {
                if (statics[i].Value == value)
                {
                    return (i + 1, i + 1);
                }
                nameIndex = nameIndex == 0 ? i + 1 : nameIndex;
            }
        }
        for (var i = 0; i < _table.Count; i++)
        {
            var entry = _table[i];
            if (entry.Key == name)
            {
                if (entry.Value == value && !IsSensitive(name))
                {
                    return (statics.Length + i + 1, nameIndex);
                }
                nameIndex = nameIndex == 0 ? statics.Length + i + 1 : nameIndex;
            }
        }
        return (0, nameIndex);
    }

    private void WriteString(IBufferWriter<byte> output, string value)
    {
        var length = Encoding.Latin1.GetByteCount(value);
        var raw = length <= 256 ? stackalloc byte[length] : new byte[length];
        Encoding.Latin1.GetBytes(value, raw);
        var huffmanLength = Huffman.EncodedLength(raw);
        if (_huffman == HuffmanPolicy.Always || (_huffman == HuffmanPolicy.WhenShorter && huffmanLength < length))
        {
            WriteInteger(output, 0x80, 7, huffmanLength);
            var span = output.GetSpan(huffmanLength);
            output.Advance(Huffman.Encode(raw, span));
        }
        else
        {
            WriteInteger(output, 0x00, 7, length);
            raw.CopyTo(output.GetSpan(length));
            output.Advance(length);
        }
    }

    /// <summary>Writes <paramref name="value"/> with an <paramref name="prefixBits"/>-bit prefix after the bits of <paramref name="pattern"/> (§5.1).</summary>
    internal static void WriteInteger(IBufferWriter<byte> output, byte pattern, int prefixBits, int value)
    {
        var span = output.GetSpan(6);
        var mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            span[0] = (byte)(pattern | value);
            output.Advance(1);
            return;
        }
        span[0] = (byte)(pattern | mask);
        var written = 1;
        value -= mask;
        while (value >= 0x80)
        {
            span[written++] = (byte)((value & 0x7F) | 0x80);
            value >>= 7;
        }
        span[written++] = (byte)value;
        output.Advance(written);
    }
}
