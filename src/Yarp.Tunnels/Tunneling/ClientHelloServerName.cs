using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling;

/// <summary>
/// Reads the server name (SNI) of the TLS ClientHello a downstream sends first, by peeking: the bytes stay unread and
/// the TLS session passes through untouched. Bounded: at most one TLS record (16 KiB) and <see cref="Timeout"/>.
/// </summary>
internal static class ClientHelloServerName
{
    /// <summary>How long the peek waits for the ClientHello; a client that sends nothing first gets no server name.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private const int RecordHeaderBytes = 5;
    private const int MaxRecordBytes = RecordHeaderBytes + (16 * 1024);

    public static async ValueTask<string?> PeekAsync(RelayEnd downstream, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(Timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(MaxRecordBytes);
        try
        {
            var known = 0;
            while (true)
            {
                var count = await downstream.PeekAsync(buffer.AsMemory(0, MaxRecordBytes), known, linked.Token).ConfigureAwait(false);
                switch (TryParse(buffer.AsSpan(0, count), out var name))
                {
                    case ParseResult.Done:
                        return name;
                    case ParseResult.NotTls:
                        return null;
                }
                if (count == known || count == MaxRecordBytes)
                {
                    // End of stream, or a full record without a server name in it.
                    return null;
                }
                known = count;
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal enum ParseResult
    {
        Done,
        NotTls,
        NeedMore,
    }

    /// <summary>Finds the host_name of the server_name extension (RFC 6066 §3) in a ClientHello record; <paramref name="name"/> is null when it has none.</summary>
    internal static ParseResult TryParse(ReadOnlySpan<byte> data, out string? name)
    {
        name = null;
        if (data.Length == 0)
        {
            return ParseResult.NeedMore;
        }
        // A TLS handshake record (22), major version 3.
        if (data[0] != 22 || (data.Length > 1 && data[1] != 3))
        {
            return ParseResult.NotTls;
        }
        if (data.Length < RecordHeaderBytes)
        {
            return ParseResult.NeedMore;
        }
        var recordLength = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
        if (data.Length < RecordHeaderBytes + recordLength)
        {
            return ParseResult.NeedMore;
        }
        var hello = data.Slice(RecordHeaderBytes, recordLength);
        // Handshake header: type 1 (ClientHello) and a 3-byte length, then version (2) and random (32).
        if (hello.Length < 4 || hello[0] != 1)
        {
            return ParseResult.NotTls;
        }
        var reader = new Reader(hello[4..]);
        if (!reader.Skip(34) || !reader.SkipVector(1) || !reader.SkipVector(2) || !reader.SkipVector(1))
        {
            return ParseResult.Done;
        }
        if (!reader.TryVector(2, out var extensions))
        {
            return ParseResult.Done;
        }
        var list = new Reader(extensions);
        while (list.TryUInt16(out var type) && list.TryVector(2, out var body))
        {
            if (type != 0)
            {
                continue;
            }
            var names = new Reader(body);
            if (names.TryVector(2, out var entries))
            {
                var entry = new Reader(entries);
                while (entry.TryByte(out var kind) && entry.TryVector(2, out var value))
                {
                    if (kind == 0 && value.Length > 0 && !value.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E))
                    {
                        name = Encoding.ASCII.GetString(value);
                        break;
                    }
                }
            }
            break;
        }
        return ParseResult.Done;
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public bool Skip(int count)
        {
            if (_data.Length < count)
            {
                return false;
            }
            _data = _data[count..];
            return true;
        }

        public bool TryByte(out byte value)
        {
            value = 0;
            if (_data.Length < 1)
            {
                return false;
            }
            value = _data[0];
            _data = _data[1..];
            return true;
        }

        public bool TryUInt16(out int value)
        {
            value = 0;
            if (_data.Length < 2)
            {
                return false;
            }
            value = BinaryPrimitives.ReadUInt16BigEndian(_data);
            _data = _data[2..];
            return true;
        }

        public bool SkipVector(int lengthBytes) => TryVector(lengthBytes, out _);

        public bool TryVector(int lengthBytes, out ReadOnlySpan<byte> value)
        {
            value = default;
            int length;
            if (lengthBytes == 1)
            {
                if (!TryByte(out var b))
                {
                    return false;
                }
                length = b;
            }
            else if (!TryUInt16(out length))
            {
                return false;
            }
            if (_data.Length < length)
            {
                return false;
            }
            value = _data[..length];
            _data = _data[length..];
            return true;
        }
    }
}
