using System.Globalization;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Yarp.Tunnels.Benchmarks.E2e;

namespace Yarp.Tunnels.Benchmarks.Tunneling;

/// <summary>
/// Memory an L1 (a TCP proxy listener that tunnels) holds per open idle tunnel: clients in a child process (this
/// program's <see cref="ClientsMode"/>) each connect, send one byte, read its echo and stay silent; this process measures
/// the GC's committed bytes (after an aggressive collection), RSS and VmData before and after opening them, after a
/// warm-up round so the baseline holds what tunnels share (pools, JIT-compiled code).
/// </summary>
internal static class IdleTunnelMemory
{
    /// <summary>The child process mode that opens and holds the idle clients.</summary>
    public const string ClientsMode = "idle-clients";

    /// <summary>What <paramref name="tunnels"/> idle tunnels through the listener on <paramref name="port"/> add, per tunnel.</summary>
    /// <param name="settle">Awaited after the warm-up clients closed, before the baseline (their tunnels end asynchronously).</param>
    /// <param name="whileOpen">Called while the tunnels are open, after measuring (to read connection counts).</param>
    /// <param name="args">The mode's options: <c>--hold</c> (see <see cref="MemoryRunner.HoldAsync"/>).</param>
    public static async Task<Result> MeasureAsync(int port, int tunnels, Func<Task> settle, Action whileOpen, string[] args)
    {
        await using (await StartClientsAsync(port, 100))
        {
        }
        await settle();
        var (committed0, vmData0) = MemoryRunner.Measure();
        var rss0 = MemoryRunner.ProcessStatusBytes("VmRSS");
        var clock = Stopwatch.StartNew();
        await using var clients = await StartClientsAsync(port, tunnels);
        var openSeconds = clock.Elapsed.TotalSeconds;
        var (committed1, vmData1) = MemoryRunner.Measure();
        var rss1 = MemoryRunner.ProcessStatusBytes("VmRSS");
        whileOpen();
        await MemoryRunner.HoldAsync(args);
        return new Result(tunnels, openSeconds, (committed1 - committed0) / tunnels, (rss1 - rss0) / tunnels, (vmData1 - vmData0) / tunnels);
    }

    /// <summary>
    /// How many tunnels fit this process's open-file limit when each holds <paramref name="socketsPerTunnel"/> sockets here
    /// (the limit cannot be raised above the hard one, 20,000 on the development VM), leaving 100 descriptors spare.
    /// </summary>
    public static int FileLimitCapacity(int socketsPerTunnel)
    {
        var limits = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var soft = long.Parse(limits["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        var open = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        return (int)Math.Max(0, (soft - open - 100) / socketsPerTunnel);
    }

    /// <summary>The child process: opens <c>--count</c> idle tunnels to <c>--port</c> and holds them until its input closes.</summary>
    public static async Task<int> RunClientsAsync(string[] args)
    {
        var port = (int)MemoryRunner.ReadOption(args, "--port", 0);
        var count = (int)MemoryRunner.ReadOption(args, "--count", 1);
        var clients = new List<Socket>(count);
        for (var opened = 0; opened < count; opened += 200)
        {
            clients.AddRange(await Task.WhenAll(Enumerable.Range(0, Math.Min(200, count - opened)).Select(_ => OpenAsync(port))));
        }
        await ChildProcess.RunUntilParentClosesAsync();
        foreach (var client in clients)
        {
            client.LingerState = new LingerOption(true, 0);
            client.Dispose();
        }
        return 0;
    }

    private static Task<ChildProcess> StartClientsAsync(int port, int count) =>
        ChildProcess.StartAsync(ClientsMode, "--port", Str(port), "--count", Str(count));

    private static async Task<Socket> OpenAsync(int port)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port);
        await client.SendAsync(new byte[] { 1 });
        if (await client.ReceiveAsync(new byte[1]) != 1)
        {
            throw new InvalidOperationException("An idle tunnel did not echo its byte.");
        }
        return client;
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Per-tunnel figures, in bytes.</summary>
    public sealed record Result(int Tunnels, double OpenSeconds, long CommittedPerTunnel, long RssPerTunnel, long VmDataPerTunnel);
}
