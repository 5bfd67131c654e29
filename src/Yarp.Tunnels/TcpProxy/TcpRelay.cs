using System.IO.Pipelines;
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
                PumpAsync(_downstream, _upstream, _counters.DownstreamReceived, _counters.UpstreamSent),
                PumpAsync(_upstream, _downstream, _counters.UpstreamReceived, _counters.DownstreamSent)).ConfigureAwait(false);
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

    /// <summary>One direction; <paramref name="received"/> counts bytes as they are read from the source, <paramref name="delivered"/> once handed to the destination.</summary>
    private async Task PumpAsync(RelayEnd source, RelayEnd destination, StatCounter? received, StatCounter? delivered)
    {
        try
        {
            // Pipes are used in place: sent straight from, or received straight into, so an internal hop adds no copy.
            if (source.Input is { } input)
            {
                await PumpFromPipeAsync(input, source, destination, received, delivered).ConfigureAwait(false);
            }
            else if (destination.Output is { } output)
            {
                await PumpIntoPipeAsync(source, output, destination.MaxWriteSize, destination, received, delivered).ConfigureAwait(false);
            }
            else
            {
                await PumpThroughBufferAsync(source, destination, received, delivered).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // A reset or error in one direction resets the whole connection, as a TCP proxy does.
            Abort();
        }
    }

    /// <summary>Sends what <paramref name="input"/> holds to <paramref name="destination"/>; <paramref name="source"/> is null for a relay's own buffer.</summary>
    private async Task PumpFromPipeAsync(PipeReader input, RelayEnd? source, RelayEnd destination, StatCounter? received, StatCounter? delivered)
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
                received?.Add(data.Length);
                foreach (var segment in data)
                {
                    await destination.WriteAsync(segment, _aborted.Token).ConfigureAwait(false);
                }
                destination.CountBytes(data.Length, read: false);
                delivered?.Add(data.Length);
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
    private async Task PumpIntoPipeAsync(RelayEnd source, PipeWriter output, int maxSize, RelayEnd? destination, StatCounter? received, StatCounter? delivered)
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
            received?.Add(read);
            var flush = await output.FlushAsync(_aborted.Token).ConfigureAwait(false);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                throw new ConnectionResetException("The connection was reset or stopped reading.");
            }
            destination?.CountBytes(read, read: false);
            delivered?.Add(read);
        }
    }

    /// <summary>
    /// Socket to socket: receiving and sending run as two loops joined by a pipe, so the next receive overlaps the
    /// current send instead of waiting for it (a single shared buffer made the relay about a socat's speed).
    /// </summary>
    private async Task PumpThroughBufferAsync(RelayEnd source, RelayEnd destination, StatCounter? received, StatCounter? delivered)
    {
        var buffer = new Pipe(new PipeOptions(
            pauseWriterThreshold: SocketBufferBytes, resumeWriterThreshold: SocketBufferBytes / 2, useSynchronizationContext: false));
        try
        {
            await Task.WhenAll(
                AbortOnErrorAsync(PumpIntoPipeAsync(source, buffer.Writer, PipeWriterExtensions.MaxBlockSize, destination: null, received, delivered: null)),
                AbortOnErrorAsync(PumpFromPipeAsync(buffer.Reader, source: null, destination, received: null, delivered))).ConfigureAwait(false);
        }
        finally
        {
            // Both loops ended: nothing receives into or sends from the buffer any more.
            buffer.Writer.Complete();
            buffer.Reader.Complete();
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

    private void Touch() => _idleTimer?.Touch();

    private void OnIdle()
    {
        Volatile.Write(ref _timedOut, 1);
        Abort();
    }
}
