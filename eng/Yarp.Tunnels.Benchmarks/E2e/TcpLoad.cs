using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Yarp.Tunnels.Benchmarks.E2e;

/// <summary>In-process TCP load: bulk streams into a sink, and short connections with a 1-byte echo.</summary>
internal static class TcpLoad
{
    /// <summary>
    /// Opens <paramref name="streams"/> connections to <paramref name="port"/> that send 64 KiB writes without pause.
    /// Returns the backend's received bytes (per second) over <paramref name="duration"/>, after <paramref name="warmup"/>.
    /// </summary>
    public static async Task<Measurement> BulkAsync(int port, int streams, RawBackend backend, TimeSpan warmup, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource();
        var block = new byte[64 * 1024];
        Random.Shared.NextBytes(block);
        block[0] = RawBackend.SinkMode;
        var senders = Enumerable.Range(0, streams).Select(_ => SendAsync(port, block, stop.Token)).ToArray();

        await Task.Delay(warmup);
        var window = Window.Start();
        var before = backend.SinkBytes;
        await Task.Delay(duration);
        var bytes = backend.SinkBytes - before;
        var (seconds, cpu) = window.Stop();

        await stop.CancelAsync();
        var failures = 0;
        foreach (var sender in senders)
        {
            failures += await sender.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false) ? 0 : 1;
        }
        return new Measurement(bytes / seconds, bytes, seconds, cpu, failures);
    }

    private static async Task<bool> SendAsync(int port, byte[] block, CancellationToken stop)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), stop);
            while (!stop.IsCancellationRequested)
            {
                for (var sent = 0; sent < block.Length;)
                {
                    sent += await socket.SendAsync(block.AsMemory(sent), SocketFlags.None, stop);
                }
            }
            return true;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            // Reset rather than close: a bulk stream has nothing left worth delivering.
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (SocketException)
            {
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="loops"/> concurrent loops of connect, send 1 byte, read it echoed, close; returns completed
    /// connections per second over <paramref name="duration"/>, after <paramref name="warmup"/>.
    /// </summary>
    public static async Task<Measurement> ConnectionsAsync(int port, int loops, TimeSpan warmup, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource();
        var counters = new Counters();
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        var workers = Enumerable.Range(0, loops).Select(_ => ConnectLoopAsync(endPoint, counters, stop.Token)).ToArray();

        await Task.Delay(warmup);
        var window = Window.Start();
        var (completedBefore, failedBefore) = counters.Read();
        await Task.Delay(duration);
        var (completedAfter, failedAfter) = counters.Read();
        var (seconds, cpu) = window.Stop();

        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(15));
        var completed = completedAfter - completedBefore;
        return new Measurement(completed / seconds, completed, seconds, cpu, failedAfter - failedBefore);
    }

    private static async Task ConnectLoopAsync(IPEndPoint endPoint, Counters counters, CancellationToken stop)
    {
        var ping = new[] { RawBackend.EchoMode };
        var pong = new byte[1];
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(endPoint, stop);
                await socket.SendAsync(ping, SocketFlags.None, stop);
                var read = await socket.ReceiveAsync(pong, SocketFlags.None, stop);
                if (read == 1 && pong[0] == RawBackend.EchoMode)
                {
                    counters.Completed();
                }
                else
                {
                    counters.Failed();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                counters.Failed();
                // Back off a little: a burst of failures (e.g. exhausted ports) should not spin.
                await Task.Delay(10, CancellationToken.None);
            }
        }
    }

    private sealed class Counters
    {
        private long _completed;
        private long _failed;

        public void Completed() => Interlocked.Increment(ref _completed);

        public void Failed() => Interlocked.Increment(ref _failed);

        public (long Completed, long Failed) Read() => (Interlocked.Read(ref _completed), Interlocked.Read(ref _failed));
    }
}

/// <summary>One measurement: a rate, its raw count, the window's length and the CPU this process used in it.</summary>
internal sealed record Measurement(double Rate, long Count, double Seconds, TimeSpan Cpu, long Failures)
{
    /// <summary>Adds up the windows of several rounds.</summary>
    public static Measurement Sum(IReadOnlyCollection<Measurement> rounds)
    {
        var count = rounds.Sum(m => m.Count);
        var seconds = rounds.Sum(m => m.Seconds);
        return new Measurement(count / seconds, count, seconds, TimeSpan.FromTicks(rounds.Sum(m => m.Cpu.Ticks)), rounds.Sum(m => m.Failures));
    }

    /// <summary>CPU used by this process as a share of one core (1.0 = one core busy for the whole window).</summary>
    public double CpuCores => Cpu.TotalSeconds / Seconds;

    /// <summary>This process's CPU time per counted unit (byte, connection or request).</summary>
    public double CpuPerUnit => Count == 0 ? double.NaN : Cpu.TotalSeconds / Count;
}

/// <summary>Wall-clock time and this process's CPU time over a measurement window.</summary>
internal readonly struct Window
{
    private readonly long _start;
    private readonly TimeSpan _cpuStart;

    private Window(long start, TimeSpan cpuStart)
    {
        _start = start;
        _cpuStart = cpuStart;
    }

    public static Window Start() => new(Stopwatch.GetTimestamp(), Process.GetCurrentProcess().TotalProcessorTime);

    public (double Seconds, TimeSpan Cpu) Stop() =>
        (Stopwatch.GetElapsedTime(_start).TotalSeconds, Process.GetCurrentProcess().TotalProcessorTime - _cpuStart);
}
