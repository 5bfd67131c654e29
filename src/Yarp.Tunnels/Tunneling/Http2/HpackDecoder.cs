using System.Text;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// Decodes HPACK header blocks (RFC 7541) of one connection, in order: indexed fields, literals with or without
/// indexing, Huffman strings and dynamic table size updates (only at the start of a block, at most the size we advertised).
/// </summary>
/// <param name="maxTableSize">The SETTINGS_HEADER_TABLE_SIZE this side advertised: the largest table the peer may ask for.</param>
/// <param name="maxHeaderListSize">The most a decoded block may hold (names, values and 32 octets per field, RFC 9113 §6.5.2).</param>
internal sealed class HpackDecoder(int maxTableSize, int maxHeaderListSize)
{
    private readonly HpackDynamicTable _table = new(maxTableSize);
    private readonly List<byte> _huffman = [];

    /// <summary>The decoder's dynamic table (tests inspect it).</summary>
    public HpackDynamicTable Table => _table;

    /// <summary>Decodes one complete header block (HEADERS plus its CONTINUATIONs).</summary>
    /// <exception cref="HpackException">The block is malformed or larger than the header list limit.</exception>
    public List<KeyValuePair<string, string>> Decode(ReadOnlySpan<byte> block)
    {
        var fields = new List<KeyValuePair<string, string>>();
        var listSize = 0;
        var position = 0;
        var fieldSeen = false;
        while (position < block.Length)
        {
            var first = block[position];
            if ((first & 0x80) != 0)
            {
                // Indexed field (§6.1).
                var index = ReadInteger(block, ref position, 7);
                Add(fields, Lookup(index), ref listSize);
                fieldSeen = true;
            }
            else if ((first & 0x40) != 0)
            {
                // Literal with incremental indexing (§6.2.1).
                var field = ReadLiteral(block, ref position, 6);
                _table.Add(field.Key, field.Value);
                Add(fields, field, ref listSize);
                fieldSeen = true;
            }
            else if ((first & 0x20) != 0)
            {
                // Dynamic table size update (§6.3): only before the first field of a block (§4.2).
                if (fieldSeen)
                {
                    throw new HpackException("A dynamic table size update follows a header field.");
                }
                var size = ReadInteger(block, ref position, 5);
                if (size > maxTableSize)
                {
                    throw new HpackException($"The dynamic table size update to {size} exceeds the advertised {maxTableSize}.");
                }
                _table.Resize(size);
            }
            else
            {
                // Literal without indexing (0000) or never indexed (0001) (§6.2.2, §6.2.3).
                Add(fields, ReadLiteral(block, ref position, 4), ref listSize);
                fieldSeen = true;
            }
        }
        return fields;
    }

    private void Add(List<KeyValuePair<string, string>> fields, KeyValuePair<string, string> field, ref int listSize)
    {
        listSize += HpackDynamicTable.SizeOf(field.Key, field.Value);
        if (listSize > maxHeaderListSize)
        {
            throw new HpackException($"The header list exceeds {maxHeaderListSize} octets.");
        }
        fields.Add(field);
    }

    private KeyValuePair<string, string> Lookup(int index)
    {
        if (index == 0)
        {
            throw new HpackException("Index 0 is not a header field.");
        }
        if (index <= HpackStaticTable.Entries.Length)
        {
            return HpackStaticTable.Entries[index - 1];
        }
        var dynamic = index - HpackStaticTable.Entries.Length - 1;
        if (dynamic >= _table.Count)
        {
            throw new HpackException($"Index {index} is beyond the dynamic table ({_table.Count} entries).");
        }
        return _table[dynamic];
    }

    private KeyValuePair<string, string> ReadLiteral(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var nameIndex = ReadInteger(block, ref position, prefixBits);
        var name = nameIndex == 0 ? ReadString(block, ref position) : Lookup(nameIndex).Key;
        var value = ReadString(block, ref position);
        return new(name, value);
    }

    private string ReadString(ReadOnlySpan<byte> block, ref int position)
    {
        if (position >= block.Length)
        {
            throw new HpackException("The header block ends inside a string literal.");
        }
        var huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position)
        {
            throw new HpackException($"A string literal of {length} octets runs past the end of the header block.");
        }
        var raw = block.Slice(position, length);
        position += length;
        if (!huffman)
        {
            return Encoding.Latin1.GetString(raw);
        }
        _huffman.Clear();
        if (!Huffman.TryDecode(raw, _huffman))
        {
            throw new HpackException("A Huffman-coded string is invalid (EOS, or padding longer than 7 bits or not all ones).");
        }
        if (_huffman.Count > maxHeaderListSize)
        {
            throw new HpackException($"The header list exceeds {maxHeaderListSize} octets.");
        }
        return Encoding.Latin1.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_huffman));
    }

    /// <summary>Reads an integer with an <paramref name="prefixBits"/>-bit prefix (§5.1), refusing values beyond <see cref="int.MaxValue"/>.</summary>
    internal static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        if (position >= block.Length)
        {
            throw new HpackException("The header block ends inside an integer.");
        }
        var mask = (1 << prefixBits) - 1;
        long value = block[position++] & mask;
        if (value < mask)
        {
            return (int)value;
        }
        var shift = 0;
        while (true)
        {
            if (position >= block.Length)
            {
                throw new HpackException("The header block ends inside an integer.");
            }
            var b = block[position++];
            value += (long)(b & 0x7F) << shift;
            if (value > int.MaxValue)
            {
                throw new HpackException("An integer exceeds 2^31 - 1.");
            }
            if ((b & 0x80) == 0)
            {
                return (int)value;
            }
            shift += 7;
            if (shift > 28)
            {
                throw new HpackException("An integer is encoded in too many octets.");
            }
        }
    }
}
