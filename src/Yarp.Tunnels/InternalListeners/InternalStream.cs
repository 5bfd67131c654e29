using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>
/// The client end of an internal connection: a duplex stream with TCP-like semantics.
/// <see cref="CompleteWrites"/> half-closes (the listener side reads end-of-stream and can still answer);
/// disposing closes both directions; <see cref="Abort"/> resets.
/// Writes never buffer more than the listener's <c>BufferSizeKb</c>: a full buffer suspends the writer.
/// A read or write pending when the stream is disposed or aborted from another thread ends with an <see cref="IOException"/>.
/// </summary>
public sealed class InternalStream : Stream
{
    private readonly InternalConnectionPair _pair;
    // Guards the flags below: a pipe half is completed by the operation using it when it ends, or at once when none does.
    private readonly Lock _gate = new();
    private bool _reading;
    private bool _writing;
    private bool _writesCompleted;
    private bool _writerDone;
    private bool _readerDone;
    private bool _disposed;

    internal InternalStream(InternalConnectionPair pair)
    {
        _pair = pair;
    }

    /// <summary>The internal listener this stream is connected to.</summary>
    public string ListenerName => _pair.Listener.Name;

    /// <summary>The pipe this end reads, for a relay that owns the stream and moves bytes without the stream's copy.</summary>
    internal PipeReader Input => _pair.ServerToClient.Reader;

    /// <summary>The pipe this end writes, for a relay that owns the stream and moves bytes without the stream's copy.</summary>
    internal PipeWriter Output => _pair.ClientToServer.Writer;

    /// <summary>The most a relay puts into <see cref="Output"/> per flush.</summary>
    internal int MaxWriteSize => _pair.MaxWriteSize;

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
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_reading)
            {
                throw new InvalidOperationException("A read is already pending on this internal connection.");
            }
            if (buffer.IsEmpty)
            {
                return 0;
            }
            _reading = true;
        }

        var input = _pair.ServerToClient.Reader;
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (ConnectionResetException)
                {
                    throw ResetException();
                }
                if (result.IsCanceled || _pair.IsReset || Volatile.Read(ref _disposed))
                {
                    input.AdvanceTo(result.Buffer.Start);
                    throw Volatile.Read(ref _disposed) && !_pair.IsReset ? ClosedException() : ResetException();
                }

                if (PipeReads.TryCopy(input, result, buffer.Span, out var count))
                {
                    _pair.Stats.AddSent(count);
                    return count;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _reading = false;
                if (_disposed)
                {
                    CompleteReaderLocked();
                }
            }
        }
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writesCompleted)
            {
                throw new InvalidOperationException("Writes were completed on this internal connection.");
            }
            if (_writing)
            {
                throw new InvalidOperationException("A write is already pending on this internal connection.");
            }
            _writing = true;
        }

        try
        {
            if (_pair.IsReset)
            {
                throw ResetException();
            }
            // Chunks no larger than the buffer keep memory bounded by BufferSizeKb whatever the caller's write size.
            var result = await _pair.ClientToServer.Writer.WriteInChunksAsync(buffer, _pair.MaxWriteSize, cancellationToken).ConfigureAwait(false);
            if (result.IsCompleted || _pair.IsReset)
            {
                // The listener side stopped reading or reset.
                throw ResetException();
            }
            if (result.IsCanceled)
            {
                throw ClosedException();
            }
            _pair.Stats.AddReceived(buffer.Length);
        }
        finally
        {
            lock (_gate)
            {
                _writing = false;
                if (_writesCompleted)
                {
                    CompleteWriterLocked();
                }
            }
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
        lock (_gate)
        {
            _writesCompleted = true;
            if (_writing)
            {
                // The pending write completes the pipe when it ends.
                _pair.ClientToServer.Writer.CancelPendingFlush();
            }
            else
            {
                CompleteWriterLocked();
            }
        }
    }

    /// <summary>Resets the connection: the listener side's pending and later reads fail with a connection-reset error.</summary>
    public void Abort()
    {
        Reset();
        Dispose();
    }

    /// <summary>Resets the connection without completing any pipe; the owner of each half completes it (see <see cref="InternalConnectionPair"/>).</summary>
    internal void Reset() => _pair.Reset();

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        var signal = false;
        lock (_gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                _writesCompleted = true;
                signal = true;
                if (_reading)
                {
                    _pair.ServerToClient.Reader.CancelPendingRead();
                }
                else
                {
                    CompleteReaderLocked();
                }
                if (_writing)
                {
                    _pair.ClientToServer.Writer.CancelPendingFlush();
                }
                else
                {
                    CompleteWriterLocked();
                }
            }
        }
        if (signal)
        {
            _pair.Server.SignalClosed();
        }
        base.Dispose(disposing);
    }

    private void CompleteWriterLocked()
    {
        if (!_writerDone)
        {
            _writerDone = true;
            _pair.ClientToServer.Writer.Complete(_pair.IsReset
                ? new ConnectionResetException($"The internal connection to '{ListenerName}' was reset by the client.")
                : null);
        }
    }

    private void CompleteReaderLocked()
    {
        if (!_readerDone)
        {
            _readerDone = true;
            _pair.ServerToClient.Reader.Complete();
        }
    }

    private IOException ResetException() =>
        new($"The internal connection to '{ListenerName}' was reset by the peer.", new SocketException((int)SocketError.ConnectionReset));

    // What a socket's pending operation reports when the socket is closed under it.
    private IOException ClosedException() =>
        new($"The internal connection to '{ListenerName}' was closed while an operation was pending.", new SocketException((int)SocketError.OperationAborted));
}
