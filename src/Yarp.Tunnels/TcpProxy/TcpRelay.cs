using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>
/// Copies bytes both ways between a downstream and an upstream until both directions ended. End-of-stream in one
/// direction is passed on as a half-close, so the other direction keeps flowing; an error resets both sides.
/// Activity in either direction restarts the idle timer.
/// </summary>
internal sealed class TcpRelay
{
    private const int BufferSize = 64 * 1024;

    private readonly RelayEnd _downstream;
    private readonly RelayEnd _upstream;
    private readonly TimeSpan _idleTimeout;
    private readonly StatCounter _rx;
    private readonly StatCounter _tx;
    private readonly CancellationTokenSource _aborted = new();
    private long _lastActivity = Environment.TickCount64;
    private Timer? _idleTimer;
    private int _timedOut;

    public TcpRelay(RelayEnd downstream, RelayEnd upstream, TimeSpan idleTimeout, StatScope stats)
    {
        _downstream = downstream;
        _upstream = upstream;
        _idleTimeout = idleTimeout;
        _rx = stats[StatNames.DownstreamCxRxBytesTotal];
        _tx = stats[StatNames.DownstreamCxTxBytesTotal];
    }

    /// <summary>Whether the relay ended because no byte moved for the idle timeout.</summary>
    public bool TimedOut => Volatile.Read(ref _timedOut) != 0;

    public async Task RunAsync()
    {
        if (_idleTimeout > TimeSpan.Zero && _idleTimeout != Timeout.InfiniteTimeSpan)
        {
            _idleTimer = new Timer(static s => ((TcpRelay)s!).OnIdleTimer(), this, _idleTimeout, Timeout.InfiniteTimeSpan);
        }
        try
        {
            await Task.WhenAll(PumpAsync(_downstream, _upstream, _rx), PumpAsync(_upstream, _downstream, _tx)).ConfigureAwait(false);
        }
        finally
        {
            if (_idleTimer is not null)
            {
                await _idleTimer.DisposeAsync().ConfigureAwait(false);
            }
            _aborted.Dispose();
        }
    }

    private async Task PumpAsync(RelayEnd source, RelayEnd destination, StatCounter bytes)
    {
        try
        {
            // Pipes are used in place: sent straight from, or received straight into, so an internal hop adds no copy.
            if (source.Input is { } input)
            {
                await PumpFromPipeAsync(source, input, destination, bytes).ConfigureAwait(false);
            }
            else if (destination.Output is { } output)
            {
                await PumpIntoPipeAsync(source, destination, output, bytes).ConfigureAwait(false);
            }
            else
            {
                await PumpThroughBufferAsync(source, destination, bytes).ConfigureAwait(false);
            }
        }
        catch (Exception) when (!TimedOut)
        {
            // A reset or error in one direction resets the whole connection, as a TCP proxy does.
            Abort();
        }
        catch (Exception)
        {
        }
    }

    private async Task PumpFromPipeAsync(RelayEnd source, PipeReader input, RelayEnd destination, StatCounter bytes)
    {
        while (true)
        {
            var result = await input.ReadAsync(_aborted.Token).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                throw new ConnectionResetException("The internal connection was reset.");
            }
            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                Touch();
                foreach (var segment in data)
                {
                    await destination.WriteAsync(segment, _aborted.Token).ConfigureAwait(false);
                }
                source.OnPipeBytes(data.Length, read: true);
                bytes.Add(data.Length);
            }
            input.AdvanceTo(data.End);
            if (result.IsCompleted)
            {
                destination.ShutdownWrite();
                return;
            }
        }
    }

    private async Task PumpIntoPipeAsync(RelayEnd source, RelayEnd destination, PipeWriter output, StatCounter? bytes)
    {
        while (true)
        {
            await source.WaitForDataAsync(_aborted.Token).ConfigureAwait(false);
            var chunk = destination.OutputChunkSize;
            var read = await source.ReadAsync(output.GetMemory(chunk)[..chunk], _aborted.Token).ConfigureAwait(false);
            if (read == 0)
            {
                destination.ShutdownWrite();
                return;
            }
            Touch();
            output.Advance(read);
            var flush = await output.FlushAsync(_aborted.Token).ConfigureAwait(false);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                throw new ConnectionResetException("The internal connection stopped reading.");
            }
            destination.OnPipeBytes(read, read: false);
            bytes?.Add(read);
        }
    }

    /// <summary>
    /// Socket to socket: receiving and sending run as two loops joined by a small pipe, so the next receive overlaps the
    /// current send instead of waiting for it (a single shared buffer made the relay about a socat's speed).
    /// </summary>
    private async Task PumpThroughBufferAsync(RelayEnd source, RelayEnd destination, StatCounter bytes)
    {
        var buffer = new BufferRelayEnd();
        try
        {
            await Task.WhenAll(
                AbortOnErrorAsync(PumpIntoPipeAsync(source, buffer, buffer.Output, bytes: null)),
                AbortOnErrorAsync(PumpFromPipeAsync(buffer, buffer.Input, destination, bytes))).ConfigureAwait(false);
        }
        finally
        {
            await buffer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Resets the connection as soon as one loop fails, so the other loop (waiting on the pipe) ends too.</summary>
    private async Task AbortOnErrorAsync(Task pump)
    {
        try
        {
            await pump.ConfigureAwait(false);
        }
        catch (Exception) when (!TimedOut)
        {
            Abort();
            throw;
        }
    }

    private void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

    private void OnIdleTimer()
    {
        var idleFor = TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastActivity));
        if (idleFor < _idleTimeout)
        {
            try
            {
                _idleTimer?.Change(_idleTimeout - idleFor, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
            }
            return;
        }
        Volatile.Write(ref _timedOut, 1);
        Abort();
    }

    private void Abort()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        _downstream.Abort();
        _upstream.Abort();
    }
}
