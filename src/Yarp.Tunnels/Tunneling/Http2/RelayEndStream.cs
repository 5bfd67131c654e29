using System.Buffers;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// A connected <see cref="RelayEnd"/> (socket or internal connection, from the foundation's connectors) as a
/// <see cref="Stream"/>, so an HTTP/2 connection (and TLS under it) runs over whatever the destination's address picks.
/// </summary>
internal sealed class RelayEndStream(RelayEnd end) : Stream
{
    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (end.Input is not { } input)
        {
            return await end.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
        var data = result.Buffer;
        var count = (int)Math.Min(data.Length, buffer.Length);
        data.Slice(0, count).CopyTo(buffer.Span);
        input.AdvanceTo(data.GetPosition(count));
        if (count == 0 && !result.IsCompleted)
        {
            throw new IOException("The connection was reset.");
        }
        return count;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        end.WriteAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, default).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, default).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // A graceful close: a GOAWAY written just before must still reach the peer.
    public override async ValueTask DisposeAsync()
    {
        end.ShutdownWrite();
        await end.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            end.ShutdownWrite();
            end.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }
}
