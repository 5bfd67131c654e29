using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Benchmarks.E2e;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Tunneling.Http2;

namespace Yarp.Tunnels.Benchmarks.Tunneling;

/// <summary>
/// TCP tunnelled over classic HTTP/2 CONNECT: client → L1 (a TCP proxy listener with <c>Tunneling:Protocol Http2</c>)
/// → node's http2 CONNECT server (<c>test/…/Interop/node/h2-connect-server.js</c>, its own process) → target.
/// Measures bulk Gbit/s (1 and 4 streams into a sink, direct to the sink for reference), tunnels/s (connect, 1-byte
/// echo, close), how many tunnels share one upstream connection, and memory per open idle tunnel: the GC's committed
/// bytes, RSS and VmData L1 adds per tunnel (the idle clients run in a child process, node in its own).
/// </summary>
internal static class Http2TunnelRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        var tunnels = (int)MemoryRunner.ReadOption(args, "--tunnels", 10_000);
        var seconds = MemoryRunner.ReadOption(args, "--seconds", 4);
        var duration = TimeSpan.FromSeconds(seconds);
        // .NET keeps JIT-compiling for seconds: each tunnel figure follows this long of the same load (direct ones 0.5 s).
        var warmup = TimeSpan.FromSeconds(MemoryRunner.ReadOption(args, "--warmup", 5));
        var directWarmup = TimeSpan.FromSeconds(0.5);

        using var node = StartNode();
        try
        {
            return await RunAsync(node, tunnels, seconds, duration, warmup, directWarmup, args);
        }
        finally
        {
            // Disposing a Process does not end it: node would outlive this run.
            node.Kill(entireProcessTree: true);
            await node.WaitForExitAsync();
        }
    }

    private static async Task<int> RunAsync(Process node, int tunnels, double seconds, TimeSpan duration, TimeSpan warmup, TimeSpan directWarmup, string[] args)
    {
        var nodePort = await NodePortAsync(node);
        await using var backend = new RawBackend();
        var settings = new Dictionary<string, string?>
        {
            // Bulk and tunnels/s: the tunnel's target is the raw backend (sink, or echo for tunnels/s).
            ["ReverseProxy:Listeners:l1:Address"] = "tcp://127.0.0.1:0",
            ["ReverseProxy:Listeners:l1:TcpProxy:ClusterId"] = "node",
            ["ReverseProxy:Listeners:l1:TcpProxy:Tunneling:Hostname"] = $"127.0.0.1:{backend.Port}",
            ["ReverseProxy:Listeners:l1:TcpProxy:Tunneling:Protocol"] = "Http2",
            // Idle tunnels: node echoes them itself, so no target socket is opened for them.
            ["ReverseProxy:Listeners:idle:Address"] = "tcp://127.0.0.1:0",
            ["ReverseProxy:Listeners:idle:TcpProxy:ClusterId"] = "node",
            ["ReverseProxy:Listeners:idle:TcpProxy:Tunneling:Hostname"] = "echo.control:1",
            ["ReverseProxy:Listeners:idle:TcpProxy:Tunneling:Protocol"] = "Http2",
            ["ReverseProxy:Clusters:node:Destinations:d1:Address"] = $"tcp://127.0.0.1:{nodePort}",
        };
        await using var host = await Hosts.StartTunnelsAsync(new InternalListenerRegistry(), settings);
        var pool = host.Services.GetRequiredService<Http2ConnectionPool>();
        var l1 = Hosts.TcpProxyPort(host, "l1");
        var idle = Hosts.TcpProxyPort(host, "idle");

        Console.WriteLine("# Yarp.Tunnels: TCP over classic HTTP/2 CONNECT (L1 → node http2 CONNECT server)");
        Console.WriteLine();
        Console.WriteLine(BenchmarkMachine.Describe());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"- node {NodeVersion()}; {seconds:0.#} s per figure after {warmup.TotalSeconds:0.#} s warm-up; client, L1 and sink in this process; the shipped client defaults (1,000 tunnels per connection)."));
        Console.WriteLine();

        Console.Error.WriteLine("bulk...");
        var direct1 = await TcpLoad.BulkAsync(backend.Port, 1, backend, directWarmup, duration);
        var tunnel1 = await TcpLoad.BulkAsync(l1, 1, backend, warmup, duration);
        var direct4 = await TcpLoad.BulkAsync(backend.Port, 4, backend, directWarmup, duration);
        var tunnel4 = await TcpLoad.BulkAsync(l1, 4, backend, warmup, duration);
        Console.Error.WriteLine("tunnels/s...");
        var opened = await TcpLoad.ConnectionsAsync(l1, 32, warmup, duration);

        Console.WriteLine("| path | bulk 1 stream | bulk 4 streams | tunnels/s (32 loops) |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| direct to the sink (reference) | {Gbit(direct1)} | {Gbit(direct4)} | — |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| TCP → L1 (h2-connect) → node → sink | {Gbit(tunnel1)} | {Gbit(tunnel4)} | {opened.Rate:#,0}{Failures(opened)} |"));
        Console.WriteLine();
        await WaitForNoStreamsAsync(pool);

        // Idle tunnels: one byte echoed through each, then silence.
        Console.Error.WriteLine($"{tunnels:#,0} idle tunnels...");
        int connections = 0, count = 0;
        var idleResult = await IdleTunnelMemory.MeasureAsync(idle, tunnels, () => WaitForNoStreamsAsync(pool), () =>
        {
            connections = pool.ConnectionCount;
            count = pool.ActiveStreams;
        }, args);

        Console.WriteLine("| idle tunnels open | upstream HTTP/2 connections | tunnels per connection | opened in | committed per tunnel | RSS per tunnel | VmData per tunnel |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {count:#,0} | {connections} | {count / (double)connections:#,0} | {idleResult.OpenSeconds:0.0} s | {MemoryRunner.Kib(idleResult.CommittedPerTunnel)} | {MemoryRunner.Kib(idleResult.RssPerTunnel)} | {MemoryRunner.Kib(idleResult.VmDataPerTunnel)} |"));
        return 0;
    }

    private static string Gbit(Measurement m) => string.Create(CultureInfo.InvariantCulture, $"{m.Rate * 8 / 1e9:0.00} Gbit/s{Failures(m)}");

    private static string Failures(Measurement m) => m.Failures > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({m.Failures} failed)") : "";

    /// <summary>The tunnels/s loops' last tunnels end asynchronously: start the idle round from no stream.</summary>
    private static async Task WaitForNoStreamsAsync(Http2ConnectionPool pool)
    {
        for (var i = 0; i < 100 && pool.ActiveStreams > 0; i++)
        {
            await Task.Delay(50);
        }
    }

    private static Process StartNode()
    {
        var script = Path.Combine(RepoRoot(), "test", "Yarp.Tunnels.FunctionalTests", "Interop", "node", "h2-connect-server.js");
        var info = new ProcessStartInfo("node", [script]) { RedirectStandardOutput = true, UseShellExecute = false };
        return Process.Start(info) ?? throw new InvalidOperationException("node did not start (Debian/Ubuntu: apt-get install nodejs).");
    }

    private static string NodeVersion()
    {
        using var process = Process.Start(new ProcessStartInfo("node", ["--version"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var version = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return version;
    }

    private static string RepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Yarp.Tunnels.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException($"No Yarp.Tunnels.sln above {AppContext.BaseDirectory}.");
    }

    private static async Task<int> NodePortAsync(Process node)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var line = await node.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("node exited before listening.");
        return System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("port").GetInt32();
    }
}
