using System.Buffers;
using CsCheck;
using Yarp.Tunnels.Tunneling.Http2;

namespace Yarp.Tunnels.Tests.Tunneling.Http2;

/// <summary>HPACK against the examples of RFC 7541 Appendix C (bytes, decoded fields and dynamic table after each block), and round trips.</summary>
public class HpackTests
{
    private static readonly (string Name, string Value)[] Request1 = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")];
    private static readonly (string Name, string Value)[] Request2 = [.. Request1, ("cache-control", "no-cache")];
    private static readonly (string Name, string Value)[] Request3 =
        [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")];

    private static readonly (string Name, string Value)[] Response1 =
        [(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")];
    private static readonly (string Name, string Value)[] Response2 =
        [(":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")];
    private static readonly (string Name, string Value)[] Response3 =
        [(":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"),
         ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")];

    // Dynamic tables after each block, newest first, with each entry's size.
    private static readonly (string, string, int)[][] RequestTables =
    [
        [(":authority", "www.example.com", 57)],
        [("cache-control", "no-cache", 53), (":authority", "www.example.com", 57)],
        [("custom-key", "custom-value", 54), ("cache-control", "no-cache", 53), (":authority", "www.example.com", 57)],
    ];

    private static readonly (string, string, int)[][] ResponseTables =
    [
        [("location", "https://www.example.com", 63), ("date", "Mon, 21 Oct 2013 20:13:21 GMT", 65), ("cache-control", "private", 52), (":status", "302", 42)],
        [(":status", "307", 42), ("location", "https://www.example.com", 63), ("date", "Mon, 21 Oct 2013 20:13:21 GMT", 65), ("cache-control", "private", 52)],
        [("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1", 98), ("content-encoding", "gzip", 52), ("date", "Mon, 21 Oct 2013 20:13:22 GMT", 65)],
    ];

    public static TheoryData<string, string[], bool, int> Sequences => new()
    {
        // C.3: requests without Huffman coding.
        { "C.3", ["828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865", "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"], false, 4096 },
        // C.4: requests with Huffman coding.
        { "C.4", ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf", "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"], true, 4096 },
        // C.5: responses without Huffman coding, table of 256 octets (evictions).
        { "C.5", [
            "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
            "4803333037c1c0bf",
            "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31"], false, 256 },
        // C.6: responses with Huffman coding, table of 256 octets.
        { "C.6", [
            "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
            "4883640effc1c0bf",
            "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"], true, 256 },
    };

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Decode_AppendixC_FieldsAndDynamicTableMatch(string example, string[] blocks, bool huffman, int tableSize)
    {
        _ = huffman;
        var decoder = new HpackDecoder(tableSize, 64 * 1024);
        for (var i = 0; i < blocks.Length; i++)
        {
            var fields = decoder.Decode(Convert.FromHexString(blocks[i]));
            Assert.Equal(Expected(example, i), fields.Select(f => (f.Key, f.Value)));
            AssertTable(Table(example, i), decoder.Table);
        }
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Encode_AppendixC_BytesAndDynamicTableMatch(string example, string[] blocks, bool huffman, int tableSize)
    {
        var encoder = new HpackEncoder(huffman ? HpackEncoder.HuffmanPolicy.Always : HpackEncoder.HuffmanPolicy.Never, tableSize);
        for (var i = 0; i < blocks.Length; i++)
        {
            var output = new ArrayBufferWriter<byte>();
            encoder.Encode(Expected(example, i).Select(f => new KeyValuePair<string, string>(f.Name, f.Value)), output);
            Assert.Equal(blocks[i], Convert.ToHexStringLower(output.WrittenSpan));
            AssertTable(Table(example, i), encoder.Table);
        }
    }

    [Theory]
    [InlineData("400a637573746f6d2d6b65790d637573746f6d2d686561646572", "custom-key", "custom-header", 55)] // C.2.1 literal with indexing
    [InlineData("040c2f73616d706c652f70617468", ":path", "/sample/path", 0)]                           // C.2.2 literal without indexing
    [InlineData("100870617373776f726406736563726574", "password", "secret", 0)]                       // C.2.3 literal never indexed
    [InlineData("82", ":method", "GET", 0)]                                                           // C.2.4 indexed
    public void Decode_AppendixC2_OneRepresentation(string block, string name, string value, int tableSize)
    {
        var decoder = new HpackDecoder(4096, 64 * 1024);

        var fields = decoder.Decode(Convert.FromHexString(block));

        Assert.Equal([new KeyValuePair<string, string>(name, value)], fields);
        Assert.Equal(tableSize, decoder.Table.Size);
        Assert.Equal(tableSize == 0 ? 0 : 1, decoder.Table.Count);
    }

    [Theory]
    [InlineData(10, 5, "0a")]     // C.1.1
    [InlineData(1337, 5, "1f9a0a")] // C.1.2
    [InlineData(42, 8, "2a")]     // C.1.3
    public void Integer_AppendixC1_EncodesAndDecodes(int value, int prefixBits, string hex)
    {
        var output = new ArrayBufferWriter<byte>();
        HpackEncoder.WriteInteger(output, 0, prefixBits, value);
        Assert.Equal(hex, Convert.ToHexStringLower(output.WrittenSpan));

        var position = 0;
        Assert.Equal(value, HpackDecoder.ReadInteger(Convert.FromHexString(hex), ref position, prefixBits));
        Assert.Equal(hex.Length / 2, position);
    }

    [Theory]
    [InlineData("be", "beyond the dynamic table")]                 // index 62 with an empty table
    [InlineData("80", "Index 0")]                                  // index 0
    [InlineData("3fe21f", "exceeds the advertised")]               // size update to 4097
    [InlineData("823f0a", "follows a header field")]               // size update after a field
    [InlineData("4087ffffffffffffff0161", "Huffman")]             // a name of seven 0xff octets: holds EOS
    [InlineData("408325a8000161", "Huffman")]                    // "cus0" then padding bits that are not all ones
    [InlineData("410a6375", "runs past the end")]                  // a value longer than the block
    [InlineData("1fffffffff0f", "exceeds 2^31 - 1")]               // an integer beyond 2^31 - 1
    [InlineData("41", "ends inside a string")]
    public void Decode_MalformedBlock_ThrowsHpackException(string block, string message)
    {
        var decoder = new HpackDecoder(4096, 64 * 1024);

        var error = Assert.Throws<HpackException>(() => decoder.Decode(Convert.FromHexString(block)));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Decode_ListBeyondLimit_ThrowsHpackException()
    {
        var encoder = new HpackEncoder();
        var output = new ArrayBufferWriter<byte>();
        encoder.Encode([new("x-big", new string('a', 200))], output);
        var decoder = new HpackDecoder(4096, maxHeaderListSize: 200);

        var error = Assert.Throws<HpackException>(() => decoder.Decode(output.WrittenSpan));

        Assert.Contains("exceeds 200 octets", error.Message);
    }

    [Fact]
    public void Encode_PeerShrinksThenGrowsTable_AnnouncesSmallestThenFinalSize()
    {
        var encoder = new HpackEncoder(HpackEncoder.HuffmanPolicy.Never);
        var decoder = new HpackDecoder(4096, 64 * 1024);
        var output = new ArrayBufferWriter<byte>();
        encoder.Encode([new("custom-key", "custom-value")], output);
        decoder.Decode(output.WrittenSpan);

        encoder.SetPeerMaxTableSize(0);
        encoder.SetPeerMaxTableSize(100);
        output.ResetWrittenCount();
        encoder.Encode([new("custom-key", "custom-value")], output);

        // 0x20 = size 0 (evicts everything), 0x3f 0x45 = size 100, then a literal with incremental indexing (the entry was evicted).
        Assert.StartsWith("203f4540", Convert.ToHexStringLower(output.WrittenSpan));
        Assert.Equal([new KeyValuePair<string, string>("custom-key", "custom-value")], decoder.Decode(output.WrittenSpan));
        Assert.Equal(100, decoder.Table.MaxSize);
        Assert.Equal(1, decoder.Table.Count);
    }

    [Fact]
    public void Encode_Credentials_NeverIndexed()
    {
        var encoder = new HpackEncoder(HpackEncoder.HuffmanPolicy.Never);
        var output = new ArrayBufferWriter<byte>();

        encoder.Encode([new("proxy-authorization", "Basic dTpw")], output);

        Assert.Equal(0x1f, output.WrittenSpan[0]); // 0001 1111: never indexed, name index 49 continues
        Assert.Equal(0, encoder.Table.Count);
    }

    [Fact]
    public void EncodeDecode_RandomHeaderListsAndTableSizes_RoundTripWithEqualTables()
    {
        var name = Gen.Char["abcdefghijklmnopqrstuvwxyz-:0123456789"].Array[1, 20].Select(c => new string(c));
        var value = Gen.Char[(char)0x20, (char)0xff].Array[0, 60].Select(c => new string(c));
        // Names from the static table too, so indexed and name-indexed representations are exercised.
        var knownName = Gen.Int[0, 60].Select(i => HpackStaticTable.Entries[i].Key);
        var field = Gen.Select(Gen.OneOf(name, knownName), value, (n, v) => new KeyValuePair<string, string>(n, v));
        var block = Gen.Select(field.List[0, 12], Gen.Int[0, 4096].Nullable(), (fields, tableSize) => (fields, tableSize));
        var sequence = Gen.Select(block.List[1, 8], Gen.Enum<HpackEncoder.HuffmanPolicy>());

        sequence.Sample((blocks, policy) =>
        {
            var encoder = new HpackEncoder(policy);
            var decoder = new HpackDecoder(4096, 1024 * 1024);
            var output = new ArrayBufferWriter<byte>();
            foreach (var (fields, tableSize) in blocks)
            {
                if (tableSize is { } size)
                {
                    encoder.SetPeerMaxTableSize(size);
                }
                output.ResetWrittenCount();
                encoder.Encode(fields, output);
                Assert.Equal(fields, decoder.Decode(output.WrittenSpan));
                Assert.Equal(encoder.Table.Size, decoder.Table.Size);
                Assert.Equal(encoder.Table.MaxSize, decoder.Table.MaxSize);
                Assert.Equal(Enumerable.Range(0, encoder.Table.Count).Select(i => encoder.Table[i]), Enumerable.Range(0, decoder.Table.Count).Select(i => decoder.Table[i]));
            }
        }, iter: 500);
    }

    [Fact]
    public void Huffman_RandomOctets_RoundTrip()
    {
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            var encoded = new byte[Huffman.EncodedLength(bytes)];
            Assert.Equal(encoded.Length, Huffman.Encode(bytes, encoded));
            var decoded = new List<byte>();
            Assert.True(Huffman.TryDecode(encoded, decoded));
            Assert.Equal(bytes, decoded);
        }, iter: 1000);
    }

    private static (string Name, string Value)[] Expected(string example, int index) => example switch
    {
        "C.3" or "C.4" => new[] { Request1, Request2, Request3 }[index],
        _ => new[] { Response1, Response2, Response3 }[index],
    };

    private static (string, string, int)[] Table(string example, int index) => example is "C.3" or "C.4" ? RequestTables[index] : ResponseTables[index];

    private static void AssertTable((string Name, string Value, int Size)[] expected, HpackDynamicTable table)
    {
        Assert.Equal(expected.Length, table.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(new KeyValuePair<string, string>(expected[i].Name, expected[i].Value), table[i]);
            Assert.Equal(expected[i].Size, HpackDynamicTable.SizeOf(table[i].Key, table[i].Value));
        }
        Assert.Equal(expected.Sum(e => e.Size), table.Size);
    }
}
