using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// The client end of an internal connection: a duplex stream with TCP-like semantics.
/// <see cref="CompleteWrites"/> half-closes (the listener side reads end-of-stream and can still answer);
/// disposing closes both directions; <see cref="Abort"/> resets.
/// Writes never buffer more than the listener's <c>BufferSizeKb</c>: a full buffer suspends the writer.
/// </summary>
public sealed class InternalStream : Stream
{
    private readonly InternalConnectionPair _pair;
    private int _writesCompleted;
    private int _disposed;

    internal InternalStream(InternalConnectionPair pair)
    {
        _pair = pair;
    }

    /// <summary>The internal listener this stream is connected to.</summary>
    public string ListenerName => _pair.Listener.Name;

    /// <summary>The pipe this end reads, for relays that move bytes without the stream's copy.</summary>
    internal System.IO.Pipelines.PipeReader Input => _pair.ServerToClient.Reader;

    /// <summary>The pipe this end writes, for relays that move bytes without the stream's copy.</summary>
    internal System.IO.Pipelines.PipeWriter Output => _pair.ClientToServer.Writer;

    /// <summary>The largest write a relay may put into <see cref="Output"/> at once.</summary>
    internal int WriteChunkSize => _pair.WriteChunkSize;

    /// <summary>Counts bytes a relay moved through <see cref="Input"/> or <see cref="Output"/> in the listener's stats.</summary>
    internal void CountPipeBytes(long count, bool read)
    {
        if (read)
        {
            _pair.Stats.AddSent(count);
        }
        else
        {
            _pair.Stats.AddReceived(count);
        }
    }

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var input = _pair.ServerToClient.Reader;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled || _pair.IsReset)
            {
                input.AdvanceTo(result.Buffer.Start);
                throw ResetException();
            }

            if (PipeReads.TryCopy(input, result, buffer.Span, out var count))
            {
                _pair.Stats.AddSent(count);
                return count;
            }
        }
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_writesCompleted != 0)
        {
            throw new InvalidOperationException("Writes were completed on this internal connection.");
        }

        var output = _pair.ClientToServer.Writer;
        // Chunks no larger than the buffer keep memory bounded by BufferSizeKb whatever the caller's write size.
        var chunkSize = _pair.WriteChunkSize;
        while (!buffer.IsEmpty)
        {
            if (_pair.IsReset)
            {
                throw ResetException();
            }
            var chunk = buffer.Length > chunkSize ? buffer[..chunkSize] : buffer;
            var result = await output.WriteInLargeSegmentsAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled || result.IsCompleted || _pair.IsReset)
            {
                throw ResetException();
            }
            _pair.Stats.AddReceived(chunk.Length);
            buffer = buffer[chunk.Length..];
        }
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Half-closes the connection: the listener side reads end-of-stream after the buffered bytes.</summary>
    public void CompleteWrites()
    {
        if (Interlocked.Exchange(ref _writesCompleted, 1) == 0)
        {
            _pair.ClientToServer.Writer.Complete();
        }
    }

    /// <summary>Resets the connection: the listener side's pending and later reads fail with a connection-reset error.</summary>
    public void Abort()
    {
        if (_pair.MarkResetFromClient())
        {
            Interlocked.Exchange(ref _writesCompleted, 1);
            _pair.ClientToServer.Writer.Complete(new ConnectionResetException($"The internal connection to '{ListenerName}' was reset by the client."));
            _pair.Server.SignalClosed();
        }
        Dispose();
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            CompleteWrites();
            _pair.ServerToClient.Reader.Complete();
            _pair.Server.SignalClosed();
        }
        base.Dispose(disposing);
    }

    private IOException ResetException() =>
        new($"The internal connection to '{ListenerName}' was reset by the peer.", new SocketException((int)SocketError.ConnectionReset));
}
