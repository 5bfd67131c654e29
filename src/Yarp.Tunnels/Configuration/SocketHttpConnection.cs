using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// A connection an HTTP socket listener accepted, as Kestrel's socket transport would present it (one receive loop
/// filling the input pipe, one send loop draining the output pipe, the socket closed once the output completes), with one
/// addition: <see cref="DetachAsync"/> stops both loops and hands the socket itself to a tunnel, so an HTTP/1.1 CONNECT
/// relays socket to socket (kernel splicing, real half-close) instead of through Kestrel's pipes.
/// </summary>
internal sealed class SocketHttpConnection : ServerConnection, ISocketDetachFeature, IConnectionSocketFeature, IMemoryPoolFeature
{
    // Receives start small (most HTTP reads are a few hundred bytes) and double while they fill the block.
    private const int MinReceive = 4096;
    private const int MaxReceive = 64 * 1024;

    /// <summary>What a handed-over connection's transport is: its pipes are gone, and nothing reads or writes it.</summary>
    private static readonly IDuplexPipe Released = CreateReleased();

    private readonly Socket _socket;
    private readonly CancellationTokenSource _detaching = new();
    private readonly object _shutdownLock = new();
    // Let go once the socket is handed to a tunnel, so an idle tunnel holds neither pipe.
    private SocketPipes? _pipes;
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private Exception? _shutdownReason;
    private bool _socketClosed;

    /// <param name="socket">The accepted socket.</param>
    /// <param name="inputOptions">The received bytes' pipe: the listener's pool (Kestrel's pinned blocks, also this connection's <see cref="MemoryPool"/>) and the bytes not yet read by Kestrel beyond which receiving pauses.</param>
    /// <param name="outputOptions">The pipe of what Kestrel writes: the bytes not yet sent beyond which its flushes wait.</param>
    public SocketHttpConnection(Socket socket, PipeOptions inputOptions, PipeOptions outputOptions)
        : base("socket")
    {
        _socket = socket;
        MemoryPool = inputOptions.Pool;
        _pipes = new SocketPipes(inputOptions, outputOptions);
        Transport = _pipes;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;

        Features.Set<IConnectionSocketFeature>(this);
        Features.Set<IMemoryPoolFeature>(this);
        Features.Set<ISocketDetachFeature>(this);
    }

    // A connection middleware that wraps the socket's bytes (TLS) replaces Transport: the tunnel must then read through it.
    public bool CanDetach => Volatile.Read(ref _pipes) is { } pipes && ReferenceEquals(Transport, pipes);

    public Socket Socket => _socket;

    public MemoryPool<byte> MemoryPool { get; }

    /// <summary>Starts the receive and send loops.</summary>
    public void Start()
    {
        _receiving = ReceiveLoopAsync();
        _sending = SendLoopAsync();
    }

    public async ValueTask<DetachedSocket> DetachAsync()
    {
        var pipes = Volatile.Read(ref _pipes) ?? throw new InvalidOperationException("The socket was already handed over.");
        _detaching.Cancel();
        // The send loop sends what Kestrel wrote before it stops, so nothing Kestrel flushed is lost.
        pipes.ToSend.Reader.CancelPendingRead();
        await _receiving.ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        lock (_shutdownLock)
        {
            if (_socketClosed)
            {
                throw new ConnectionResetException("The connection was closed before it could be handed to the tunnel.");
            }
        }
        // Bytes received after what Kestrel parsed (pipelined payload): the tunnel reads them first.
        byte[]? early = null;
        var count = 0;
        var received = pipes.Received.Reader;
        if (received.TryRead(out var result))
        {
            if (!result.Buffer.IsEmpty)
            {
                count = (int)result.Buffer.Length;
                early = ArrayPool<byte>.Shared.Rent(count);
                result.Buffer.CopyTo(early);
            }
            received.AdvanceTo(result.Buffer.End);
        }
        // Both loops ended and Kestrel now reads and writes only through the CONNECT shim: the pipes' blocks go back to the pool.
        Transport = Released;
        Volatile.Write(ref _pipes, null);
        pipes.CompleteAll();
        return new DetachedSocket(_socket, early, count);
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        // As Kestrel's socket transport: a graceful shutdown of the socket, then the loops end.
        Shutdown(abortReason);
        Volatile.Read(ref _pipes)?.ToSend.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        // Kestrel is done: its ends complete, so the loops end and complete theirs (a handed-over connection has none left).
        if (Volatile.Read(ref _pipes) is { } pipes)
        {
            pipes.Received.Reader.Complete();
            pipes.ToSend.Writer.Complete();
        }
        await _receiving.ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        Shutdown(null);
        Closed.Dispose();
        _detaching.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var input = _pipes!.Received.Writer;
        Exception? error = null;
        var size = MinReceive;
        try
        {
            while (true)
            {
                // Waits without a buffer, so an idle connection holds none (as Kestrel's WaitForDataBeforeAllocatingBuffer).
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, _detaching.Token).ConfigureAwait(false);
                var memory = input.GetMemory(size);
                var received = await _socket.ReceiveAsync(memory, SocketFlags.None, _detaching.Token).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }
                size = received == memory.Length ? Math.Min(size * 2, MaxReceive) : MinReceive;
                input.Advance(received);
                var flush = await input.FlushAsync(_detaching.Token).ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_detaching.IsCancellationRequested)
        {
            // Handed to a tunnel: the socket stays open and the input stays as it is (the tunnel takes what is left).
            return;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
        {
            error = new ConnectionResetException(ex.Message, ex);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            error = ex;
        }
        lock (_shutdownLock)
        {
            error = _shutdownReason ?? error;
        }
        input.Complete(error);
        ConnectionClosedSignal.Fire(Closed);
    }

    private async Task SendLoopAsync()
    {
        var pipes = _pipes!;
        var output = pipes.ToSend.Reader;
        Exception? error = null;
        List<ArraySegment<byte>>? segments = null;
        try
        {
            while (true)
            {
                var result = await output.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    if (buffer.IsSingleSegment)
                    {
                        await SendAllAsync(buffer.First).ConfigureAwait(false);
                    }
                    else
                    {
                        // One gathered send for what Kestrel wrote in several blocks.
                        segments ??= [];
                        segments.Clear();
                        foreach (var segment in buffer)
                        {
                            segments.Add(MemoryMarshal.TryGetArray(segment, out var array) ? array : new ArraySegment<byte>(segment.ToArray()));
                        }
                        await SendAllAsync(segments, buffer.Length).ConfigureAwait(false);
                    }
                }
                output.AdvanceTo(buffer.End);
                if (result.IsCanceled && _detaching.IsCancellationRequested)
                {
                    // Handed to a tunnel: everything Kestrel wrote was sent; the socket stays open.
                    return;
                }
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            error = ex;
        }
        Shutdown(error);
        output.Complete();
        // A receive loop paused on a full input wakes and ends.
        pipes.Received.Writer.CancelPendingFlush();
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    private async ValueTask SendAllAsync(List<ArraySegment<byte>> segments, long length)
    {
        var sent = (long)await _socket.SendAsync(segments, SocketFlags.None).ConfigureAwait(false);
        if (sent == length)
        {
            return;
        }
        // A partial gathered send (rare: the socket buffer filled): the rest goes segment by segment.
        foreach (var segment in segments)
        {
            if (sent >= segment.Count)
            {
                sent -= segment.Count;
                continue;
            }
            await SendAllAsync(segment.AsMemory((int)sent)).ConfigureAwait(false);
            sent = 0;
        }
    }

    /// <summary>Closes the socket once (FIN both ways, as Kestrel's socket transport does); later calls do nothing.</summary>
    private void Shutdown(Exception? reason)
    {
        lock (_shutdownLock)
        {
            if (_socketClosed)
            {
                return;
            }
            _socketClosed = true;
            _shutdownReason = reason ?? new ConnectionAbortedException("The socket transport's send loop completed gracefully.");
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already reset, or closed by the tunnel that took the socket over.
            }
            _socket.Dispose();
        }
    }

    private static IDuplexPipe CreateReleased()
    {
        var pipe = new Pipe();
        pipe.Reader.Complete();
        pipe.Writer.Complete();
        return new DuplexPipe(pipe.Reader, pipe.Writer);
    }

    /// <summary>The socket's two pipes, which are the connection's transport as Kestrel sees it.</summary>
    private sealed class SocketPipes(PipeOptions receivedOptions, PipeOptions toSendOptions) : IDuplexPipe
    {
        /// <summary>Bytes received from the socket, for Kestrel to read.</summary>
        public Pipe Received { get; } = new(receivedOptions);

        /// <summary>Bytes Kestrel wrote, for the send loop.</summary>
        public Pipe ToSend { get; } = new(toSendOptions);

        public PipeReader Input => Received.Reader;

        public PipeWriter Output => ToSend.Writer;

        /// <summary>Completes all four ends once both loops ended and Kestrel uses the pipes no more, returning their blocks to the pool.</summary>
        public void CompleteAll()
        {
            Received.Reader.Complete();
            ToSend.Writer.Complete();
            Received.Writer.Complete();
            ToSend.Reader.Complete();
        }
    }
}
