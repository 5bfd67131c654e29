using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>
/// Copies bytes both ways between a downstream and an upstream <see cref="RelayEnd"/> until both directions ended.
/// End of stream in one direction is passed on as a half-close, so the other direction keeps flowing; an error or reset
/// in either direction resets both sides. Activity in either direction restarts the idle timer. The ownership and memory
/// rules the ends follow are on <see cref="RelayEnd"/>.
/// </summary>
internal sealed class TcpRelay
{
    /// <summary>The buffer between a socket-to-socket relay's receive and send loops, per direction.</summary>
    public const int SocketBufferBytes = 512 * 1024;

    // Bursts below this many bytes are spliced on the socket event thread, larger ones on the thread pool (see PumpSplicedAsync).
    private const int InlineBurstBytes = 4 * 1024;

    // The first block asked for after a full one; doubled while receives fill their blocks, up to the end's MaxWriteSize.
    private const int MinReceiveSize = 4096;

    private readonly RelayEnd _downstream;
    private readonly RelayEnd _upstream;
    private readonly TimeSpan _idleTimeout;
    private readonly RelayCounters _counters;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _aborted = new();
    private IdleTimer? _idleTimer;
    private int _timedOut;
    private int _abortRequested;
    private long _downstreamBytes;
    private long _upstreamBytes;

    /// <param name="downstream">The side that connected to us.</param>
    /// <param name="upstream">The side we connected to.</param>
    /// <param name="counters">Where the relay counts the bytes it moves.</param>
    /// <param name="idleTimeout">Resets both sides after this long without a byte in either direction; zero or infinite disables.</param>
    /// <param name="timeProvider">The clock of the idle timer.</param>
    public TcpRelay(RelayEnd downstream, RelayEnd upstream, RelayCounters counters, TimeSpan idleTimeout, TimeProvider timeProvider)
    {
        _downstream = downstream;
        _upstream = upstream;
        _counters = counters;
        _idleTimeout = idleTimeout;
        _time = timeProvider;
    }

    /// <summary>Whether the relay ended because no byte moved for the idle timeout.</summary>
    public bool TimedOut => Volatile.Read(ref _timedOut) != 0;

    /// <summary>Bytes read from the downstream so far (final once <see cref="RunAsync"/> completed).</summary>
    public long DownstreamBytes => Interlocked.Read(ref _downstreamBytes);

    /// <summary>Bytes read from the upstream so far (final once <see cref="RunAsync"/> completed).</summary>
    public long UpstreamBytes => Interlocked.Read(ref _upstreamBytes);

    /// <summary>Relays until both directions ended; never throws. The caller then disposes both ends.</summary>
    public async Task RunAsync()
    {
        if (_idleTimeout > TimeSpan.Zero && _idleTimeout != Timeout.InfiniteTimeSpan)
        {
            _idleTimer = new IdleTimer(_idleTimeout, _time, OnIdle);
        }
        try
        {
            await Task.WhenAll(
                PumpAsync(new Direction(this, fromDownstream: true), _downstream, _upstream),
                PumpAsync(new Direction(this, fromDownstream: false), _upstream, _downstream)).ConfigureAwait(false);
        }
        finally
        {
            _idleTimer?.Dispose();
            _aborted.Dispose();
        }
    }

    /// <summary>Resets both sides; the loops then end on their own. Safe from any thread.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _abortRequested, 1) != 0)
        {
            return;
        }
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The relay already ended.
            return;
        }
        _downstream.Abort();
        _upstream.Abort();
    }

    /// <summary>One direction; <paramref name="direction"/> counts bytes as they are read from the source and once handed to the destination.</summary>
    private async Task PumpAsync(Direction direction, RelayEnd source, RelayEnd destination)
    {
        try
        {
            // Pipes are used in place: sent straight from, or received straight into, so an internal hop adds no copy.
            if (source.Socket is { } from && destination.Socket is { } to && KernelPipe.IsSupported
                && await PumpSplicedAsync(from, to, source, destination, direction).ConfigureAwait(false))
            {
                return;
            }
            if (source.Input is { } input)
            {
                await PumpFromPipeAsync(input, source, destination, direction, direction).ConfigureAwait(false);
            }
            else if (destination.Output is { } output)
            {
                await PumpIntoPipeAsync(source, output, destination.MaxWriteSize, destination, direction, direction).ConfigureAwait(false);
            }
            else
            {
                await PumpThroughBufferAsync(source, destination, direction).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // A reset or error in one direction resets the whole connection, as a TCP proxy does.
            Abort();
        }
    }

    /// <summary>
    /// Sends what <paramref name="input"/> holds to <paramref name="destination"/>; <paramref name="source"/> is null for a
    /// relay's own buffer. <paramref name="receiving"/> counts what is read, <paramref name="delivering"/> what is sent (either
    /// null when the relay's buffer's other loop counts it).
    /// </summary>
    private async Task PumpFromPipeAsync(PipeReader input, RelayEnd? source, RelayEnd destination, Direction? receiving, Direction? delivering)
    {
        while (true)
        {
            var result = await input.ReadAsync(_aborted.Token).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                throw new ConnectionResetException("The connection was reset.");
            }
            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                Touch();
                source?.CountBytes(data.Length, read: true);
                receiving?.Received(data.Length);
                if (result.IsCompleted)
                {
                    // The source finished while bytes it sent still wait to be written (Envoy's upstream_flush_total).
                    delivering?.Flushing();
                }
                foreach (var segment in data)
                {
                    var write = destination.WriteAsync(segment, _aborted.Token);
                    if (write.IsCompleted)
                    {
                        await write.ConfigureAwait(false);
                    }
                    else
                    {
                        // Reading pauses here, unless a relay buffer's receive loop reads on (it counts its own pause).
                        await WaitForRoomAsync(write, receiving).ConfigureAwait(false);
                    }
                }
                destination.CountBytes(data.Length, read: false);
                delivering?.Delivered(data.Length);
            }
            input.AdvanceTo(data.End);
            if (result.IsCompleted)
            {
                destination.ShutdownWrite();
                return;
            }
        }
    }

    /// <summary>
    /// Receives from <paramref name="source"/> straight into <paramref name="output"/> (<paramref name="destination"/>'s
    /// pipe, or null for a relay's own buffer). Waits for data before taking pipe memory, fills the last block before asking
    /// for another, and asks for small blocks until receives show bulk data: a trickle of small receives into a stalled
    /// pipe then commits about what it buffers, not a large block per receive.
    /// </summary>
    private async Task PumpIntoPipeAsync(RelayEnd source, PipeWriter output, int maxSize, RelayEnd? destination, Direction receiving, Direction? delivering)
    {
        var blockSize = Math.Min(MinReceiveSize, maxSize);
        var lastBlockHasRoom = false;
        while (true)
        {
            await source.WaitForDataAsync(_aborted.Token).ConfigureAwait(false);
            // GetMemory(1) is the rest of the last block (or a minimum-size block if the reader already returned it).
            var memory = output.GetMemory(lastBlockHasRoom ? 1 : blockSize);
            if (memory.Length > maxSize)
            {
                memory = memory[..maxSize];
            }
            var read = await source.ReadAsync(memory, _aborted.Token).ConfigureAwait(false);
            if (read == 0)
            {
                if (destination is null)
                {
                    output.Complete();
                }
                else
                {
                    destination.ShutdownWrite();
                }
                return;
            }
            Touch();
            if (read == memory.Length && memory.Length >= blockSize)
            {
                blockSize = Math.Min(blockSize * 2, maxSize);
            }
            lastBlockHasRoom = read < memory.Length;
            output.Advance(read);
            source.CountBytes(read, read: true);
            receiving.Received(read);
            var pending = output.FlushAsync(_aborted.Token);
            var flush = pending.IsCompleted ? pending.Result : await WaitForRoomAsync(pending, receiving).ConfigureAwait(false);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                throw new ConnectionResetException("The connection was reset or stopped reading.");
            }
            destination?.CountBytes(read, read: false);
            delivering?.Delivered(read);
        }
    }

    /// <summary>
    /// Socket to socket: receiving and sending run as two loops joined by a pipe, so the next receive overlaps the
    /// current send instead of waiting for it (a single shared buffer made the relay about a socat's speed).
    /// </summary>
    private async Task PumpThroughBufferAsync(RelayEnd source, RelayEnd destination, Direction direction)
    {
        var buffer = new Pipe(new PipeOptions(
            pauseWriterThreshold: SocketBufferBytes, resumeWriterThreshold: SocketBufferBytes / 2, useSynchronizationContext: false));
        try
        {
            await Task.WhenAll(
                AbortOnErrorAsync(PumpIntoPipeAsync(source, buffer.Writer, PipeWriterExtensions.MaxBlockSize, destination: null, direction, delivering: null)),
                AbortOnErrorAsync(PumpFromPipeAsync(buffer.Reader, source: null, destination, receiving: null, direction))).ConfigureAwait(false);
        }
        finally
        {
            // Both loops ended: nothing receives into or sends from the buffer any more.
            buffer.Writer.Complete();
            buffer.Reader.Complete();
        }
    }

    /// <summary>
    /// Socket to socket on Linux: each burst of received bytes moves through a kernel pipe with <c>splice(2)</c>, never
    /// copied into this process. When the destination has no room, what waits in the pipe is copied out and sent with an
    /// ordinary send, which waits for room, so reading pauses as on the other paths. Returns false, with every byte read so
    /// far delivered, once splicing is unavailable (no pipe, or the kernel refuses it): the caller then copies the rest.
    /// </summary>
    private async Task<bool> PumpSplicedAsync(Socket from, Socket to, RelayEnd source, RelayEnd destination, Direction direction)
    {
        byte[]? copy = null;
        // The source is read with an asynchronous receive first (waiting for data), which does the same for it.
        await KernelPipe.PrepareAsync(to, _aborted.Token).ConfigureAwait(false);
        // While bursts stay small (messages, requests and responses), each wake-up below runs on the socket event thread:
        // it splices without blocking and waits again, and the thread-pool hand-off it saves is most of what a small
        // burst costs. Bulk transfers go back to the thread pool, where both directions and other tunnels run in parallel
        // instead of queuing behind each other on the one event thread.
        var inline = true;
        InlineSocketCompletions.Prefer(from, inline);
        try
        {
            while (true)
            {
                var wait = source.WaitForDataAsync(_aborted.Token);
                if (wait.IsCompleted && OnEventThread)
                {
                    // More bytes were there at once: a flow rather than a wake-up, which the event thread must not serve
                    // for as long as it lasts (every other socket waits behind it).
                    await Task.Yield();
                }
                await wait.ConfigureAwait(false);
                if (KernelPipe.Rent() is not { } pipe)
                {
                    return false;
                }
                int moved;
                try
                {
                    moved = pipe.SpliceFrom(from);
                }
                catch (NotSupportedException)
                {
                    pipe.Dispose();
                    return false;
                }
                catch
                {
                    pipe.Dispose();
                    throw;
                }
                if (moved <= 0)
                {
                    pipe.Return();
                    if (moved == 0)
                    {
                        destination.ShutdownWrite();
                        return true;
                    }
                    continue;
                }
                var small = moved < InlineBurstBytes;
                if (small != inline)
                {
                    inline = small;
                    InlineSocketCompletions.Prefer(from, inline);
                }
                if (!inline && OnEventThread)
                {
                    // A bulk burst woke us on the event thread: it goes on on the thread pool.
                    await Task.Yield();
                }
                Touch();
                source.CountBytes(moved, read: true);
                direction.Received(moved);
                try
                {
                    while (moved > 0)
                    {
                        var sent = SpliceOrWouldBlock(pipe, to, moved);
                        if (sent == KernelPipe.WouldBlock)
                        {
                            copy ??= ArrayPool<byte>.Shared.Rent(PipeWriterExtensions.MaxBlockSize);
                            sent = pipe.Read(copy.AsSpan(0, Math.Min(moved, copy.Length)));
                            var write = destination.WriteAsync(copy.AsMemory(0, sent), _aborted.Token);
                            if (write.IsCompleted)
                            {
                                await write.ConfigureAwait(false);
                            }
                            else
                            {
                                await WaitForRoomAsync(write, direction).ConfigureAwait(false);
                            }
                        }
                        moved -= sent;
                        destination.CountBytes(sent, read: false);
                        direction.Delivered(sent);
                    }
                }
                catch
                {
                    pipe.Dispose();
                    throw;
                }
                pipe.Return();
            }
        }
        finally
        {
            if (copy is not null)
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
            // The end of the relay (and any fallback copy loop) is not for the event thread.
            InlineSocketCompletions.Prefer(from, inline: false);
            if (OnEventThread)
            {
                await Task.Yield();
            }
        }
    }

    // The runtime's socket event thread is its own thread; a completion handed off runs on a thread-pool thread.
    private static bool OnEventThread => !Thread.CurrentThread.IsThreadPoolThread;

    /// <summary>A splice into <paramref name="to"/>; a socket the kernel will not splice into is served by the copy fallback.</summary>
    private static int SpliceOrWouldBlock(KernelPipe pipe, Socket to, int count)
    {
        try
        {
            return pipe.SpliceTo(to, count);
        }
        catch (NotSupportedException)
        {
            return KernelPipe.WouldBlock;
        }
    }

    /// <summary>Resets the connection as soon as one loop fails, so the other loop (waiting on the pipe) ends too.</summary>
    private async Task AbortOnErrorAsync(Task pump)
    {
        try
        {
            await pump.ConfigureAwait(false);
        }
        catch (Exception)
        {
            Abort();
            throw;
        }
    }

    /// <summary>Waits for a write or flush that found the destination full: reading from the source pauses meanwhile (counted for the downstream).</summary>
    private static async ValueTask WaitForRoomAsync(ValueTask write, Direction? direction)
    {
        direction?.Paused();
        await write.ConfigureAwait(false);
        direction?.Resumed();
    }

    private static async ValueTask<FlushResult> WaitForRoomAsync(ValueTask<FlushResult> flush, Direction direction)
    {
        direction.Paused();
        var result = await flush.ConfigureAwait(false);
        direction.Resumed();
        return result;
    }

    private void Touch() => _idleTimer?.Touch();

    /// <summary>The counters of one direction.</summary>
    private sealed class Direction(TcpRelay relay, bool fromDownstream)
    {
        private readonly StatCounter? _received = fromDownstream ? relay._counters.DownstreamReceived : relay._counters.UpstreamReceived;
        private readonly StatCounter? _delivered = fromDownstream ? relay._counters.UpstreamSent : relay._counters.DownstreamSent;

        public void Received(long count)
        {
            _received?.Add(count);
            if (fromDownstream)
            {
                Interlocked.Add(ref relay._downstreamBytes, count);
            }
            else
            {
                Interlocked.Add(ref relay._upstreamBytes, count);
            }
        }

        public void Delivered(long count) => _delivered?.Add(count);

        public void Paused()
        {
            if (fromDownstream)
            {
                relay._counters.DownstreamReadingPaused?.Increment();
            }
        }

        public void Resumed()
        {
            if (fromDownstream)
            {
                relay._counters.DownstreamReadingResumed?.Increment();
            }
        }

        public void Flushing()
        {
            if (fromDownstream)
            {
                relay._counters.UpstreamFlush?.Increment();
            }
        }
    }

    private void OnIdle()
    {
        Volatile.Write(ref _timedOut, 1);
        Abort();
    }
}
