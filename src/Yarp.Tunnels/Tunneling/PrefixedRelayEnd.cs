using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling;

/// <summary>
/// A tunnel end whose first bytes were already read with the response head (payload that arrived in the same read):
/// reads return those first, then read on from the inner end. Everything else is the inner end's.
/// </summary>
internal sealed class PrefixedRelayEnd : RelayEnd
{
    private readonly RelayEnd _inner;
    private byte[]? _prefix;
    private int _offset;
    private readonly int _end;

    /// <param name="inner">The connection the tunnel runs on.</param>
    /// <param name="prefix">A pooled buffer holding the early payload at [<paramref name="offset"/>, <paramref name="end"/>); returned to the pool once read.</param>
    /// <param name="offset">Where the early payload starts.</param>
    /// <param name="end">Where it ends.</param>
    public PrefixedRelayEnd(RelayEnd inner, byte[] prefix, int offset, int end)
    {
        _inner = inner;
        _prefix = prefix;
        _offset = offset;
        _end = end;
    }

    // Only once the early payload was read: until then reads must return it first.
    public override Socket? Socket => _prefix is null ? _inner.Socket : null;

    public override PipeWriter? Output => _inner.Output;

    public override int MaxWriteSize => _inner.MaxWriteSize;

    public override EndPoint? LocalEndPoint => _inner.LocalEndPoint;

    public override EndPoint? RemoteEndPoint => _inner.RemoteEndPoint;

    public override ValueTask WaitForDataAsync(CancellationToken cancellationToken) =>
        _prefix is null ? _inner.WaitForDataAsync(cancellationToken) : default;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_prefix is not { } prefix)
        {
            return _inner.ReadCopyAsync(buffer, cancellationToken);
        }
        var count = Math.Min(buffer.Length, _end - _offset);
        prefix.AsSpan(_offset, count).CopyTo(buffer.Span);
        _offset += count;
        if (_offset == _end)
        {
            _prefix = null;
            ArrayPool<byte>.Shared.Return(prefix);
        }
        return new(count);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _inner.WriteAsync(data, cancellationToken);

    public override void CountBytes(long count, bool read) => _inner.CountBytes(count, read);

    public override void ShutdownWrite() => _inner.ShutdownWrite();

    public override void Abort() => _inner.Abort();

    public override ValueTask DisposeAsync()
    {
        if (_prefix is { } prefix)
        {
            _prefix = null;
            ArrayPool<byte>.Shared.Return(prefix);
        }
        return _inner.DisposeAsync();
    }
}
