using System.Buffers;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Connect;

/// <summary>A <see cref="RelayEnd"/> seen as a <see cref="Stream"/>, for a TLS layer on top of it (TLS origination).</summary>
internal sealed class RelayEndStream(RelayEnd end) : Stream
{
    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (end.Input is not { } input)
        {
            return await end.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                var count = (int)Math.Min(data.Length, buffer.Length);
                var slice = data.Slice(0, count);
                slice.CopyTo(buffer.Span);
                input.AdvanceTo(slice.End);
                return count;
            }
            input.AdvanceTo(data.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return 0;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        end.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
