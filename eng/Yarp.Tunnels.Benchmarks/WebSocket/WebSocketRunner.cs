using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Yarp.Tunnels.Benchmarks.E2e;

namespace Yarp.Tunnels.Benchmarks.WebSocket;

/// <summary>
/// WebSocket message round trips (p50/p99, one socket) and messages/s (many sockets ping-ponging) through the gateway
/// versus straight to the backend, over HTTP/1.1 and HTTP/2 (RFC 8441), and through nginx (HTTP/1.1: nginx has no
/// WebSocket over HTTP/2), measured in one run in interleaved rounds.
/// </summary>
internal static class WebSocketRunner
{
    /// <param name="ProxyCpu">CPU time used so far by the proxy process(es) on this path; null when there is none.</param>
    private sealed record PathSpec(string Key, string Protocol, string Name, Uri Uri, Version Version, Func<TimeSpan>? ProxyCpu);

    private sealed class PathState(PathSpec spec, HttpMessageInvoker invoker)
    {
        public PathSpec Spec { get; } = spec;
        public HttpMessageInvoker Invoker { get; } = invoker;
        public ClientWebSocket Latency { get; set; } = null!;
        public ClientWebSocket[] Load { get; set; } = [];
        public List<long> RoundTrips { get; } = [];
        public long Messages { get; set; }
        public TimeSpan LoadTime { get; set; }
        public TimeSpan ProxyCpu { get; set; }
        public List<double> RoundRates { get; } = [];
        public double Rate => Messages / LoadTime.TotalSeconds;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var messages = (int)E2eRunner.ReadOption(args, "--messages", 20_000);
        var duration = TimeSpan.FromSeconds(E2eRunner.ReadOption(args, "--seconds", 6));
        var rounds = (int)E2eRunner.ReadOption(args, "--rounds", 3);
        var connections = (int)E2eRunner.ReadOption(args, "--connections", 32);
        var size = (int)E2eRunner.ReadOption(args, "--size", 32);
        // e.g. --gateway-env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1: a runtime setting for the gateway process alone.
        var gatewayEnvironment = new Dictionary<string, string>();
        var envAt = Array.IndexOf(args, "--gateway-env");
        if (envAt >= 0)
        {
            var setting = envAt + 1 < args.Length ? args[envAt + 1].Split('=', 2) : [];
            if (setting.Length != 2 || setting[0].Length == 0)
            {
                Console.Error.WriteLine("--gateway-env needs NAME=VALUE (e.g. --gateway-env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1)");
                return 1;
            }
            gatewayEnvironment[setting[0]] = setting[1];
        }
        var nginx = Nginx.Find();
        if (nginx is null)
        {
            Console.Error.WriteLine(Nginx.InstallHint);
            return 1;
        }

        Console.WriteLine("# Yarp.Tunnels WebSocket: gateway vs direct vs nginx");
        Console.WriteLine();
        Console.WriteLine(BenchmarkMachine.Describe());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"- {size}-byte binary messages. Round trips: {messages} per path on one WebSocket, one message in flight. Messages/s: {connections} WebSockets per path, each with one message in flight, {duration.TotalSeconds:0.#} s per path; both in {rounds} interleaved rounds after a warm-up."));
        Console.WriteLine("- Clients (ClientWebSocket) and the backend (Kestrel echo) run in this process; the gateway runs as its own process (this program's websocket-gateway mode), nginx as its own processes (worker_processes auto).");
        foreach (var (name, value) in gatewayEnvironment)
        {
            Console.WriteLine($"- Gateway process environment: {name}={value}.");
        }
        Console.WriteLine("- WARNING: figures on a shared or 2-core machine drift 20-40% between runs; compare the ratios measured within one run.");
        Console.WriteLine();

        var backend = await WebSocketHosts.StartBackendAsync();
        await using var backendApp = backend.App;
        await using var gateway = await GatewayProcess.StartAsync(backend, gatewayEnvironment);
        var gatewayPort = gateway.Port;
        await using var proxy = await Nginx.StartAsync(nginx, backend.Http1Port);

        PathSpec[] specs =
        [
            new("h1-direct", "HTTP/1.1", "direct", new Uri($"ws://127.0.0.1:{backend.Http1Port}/ws"), HttpVersion.Version11, null),
            new("h1-gateway", "HTTP/1.1", "Yarp.Tunnels gateway", new Uri($"ws://127.0.0.1:{gatewayPort}/h1/ws"), HttpVersion.Version11, () => gateway.CpuTime),
            new("h1-yarp", "HTTP/1.1", "YARP forwarder (reference)", new Uri($"ws://127.0.0.1:{gateway.YarpPort}/ws"), HttpVersion.Version11, () => gateway.CpuTime),
            new("h1-tcp", "HTTP/1.1", "TCP relay (reference)", new Uri($"ws://127.0.0.1:{gateway.TcpPort}/ws"), HttpVersion.Version11, () => gateway.CpuTime),
            new("h1-nginx", "HTTP/1.1", "nginx", new Uri($"ws://127.0.0.1:{proxy.Port}/ws"), HttpVersion.Version11, () => proxy.CpuTime),
            new("h2-direct", "HTTP/2", "direct", new Uri($"ws://127.0.0.1:{backend.Http2Port}/ws"), HttpVersion.Version20, null),
            new("h2-gateway", "HTTP/2", "Yarp.Tunnels gateway", new Uri($"ws://127.0.0.1:{gatewayPort}/h2/ws"), HttpVersion.Version20, () => gateway.CpuTime),
        ];
        if (E2eRunner.ReadList(args, "--only") is { } only)
        {
            if (only.Except(specs.Select(s => s.Key)).FirstOrDefault() is { } unknown)
            {
                Console.Error.WriteLine($"--only: unknown path '{unknown}'; use a comma-separated subset of {string.Join(',', specs.Select(s => s.Key))}.");
                return 2;
            }
            // The named paths first (so a profiler attached early sees them), then the rows the ratios need.
            specs = [.. specs.Where(s => only.Contains(s.Key)), .. specs.Where(s => !only.Contains(s.Key) && s.Key is "h1-direct" or "h1-nginx" or "h2-direct")];
        }
        var paths = specs.Select(s => new PathState(s, EchoLoad.CreateInvoker())).ToArray();
        var message = new byte[size];
        Random.Shared.NextBytes(message);
        try
        {
            foreach (var path in paths)
            {
                path.Latency = await EchoLoad.ConnectAsync(path.Spec.Uri, path.Spec.Version, path.Invoker);
                path.Load = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => EchoLoad.ConnectAsync(path.Spec.Uri, path.Spec.Version, path.Invoker)));
            }

            // Every path once first, so JIT tiering does not favour whichever is measured later.
            Console.Error.WriteLine("warming up...");
            foreach (var path in paths)
            {
                await EchoLoad.RoundTripsAsync(path.Latency, message, 2_000);
                await EchoLoad.PingPongAsync(path.Load, message, TimeSpan.FromSeconds(0.5));
            }

            for (var round = 0; round < rounds; round++)
            {
                // Rotate the order, so a drift in machine load does not always favour the same path.
                foreach (var path in paths.Skip(round % paths.Length).Concat(paths.Take(round % paths.Length)))
                {
                    path.RoundTrips.AddRange(await EchoLoad.RoundTripsAsync(path.Latency, message, messages / rounds));
                    var cpuBefore = path.Spec.ProxyCpu?.Invoke() ?? TimeSpan.Zero;
                    var started = Stopwatch.GetTimestamp();
                    var echoed = await EchoLoad.PingPongAsync(path.Load, message, duration / rounds);
                    var elapsed = Stopwatch.GetElapsedTime(started);
                    path.ProxyCpu += (path.Spec.ProxyCpu?.Invoke() ?? TimeSpan.Zero) - cpuBefore;
                    path.Messages += echoed;
                    path.LoadTime += elapsed;
                    path.RoundRates.Add(echoed / elapsed.TotalSeconds);
                }
                Console.Error.WriteLine($"round {round + 1}/{rounds} done");
            }
        }
        finally
        {
            foreach (var path in paths)
            {
                path.Latency?.Dispose();
                foreach (var socket in path.Load)
                {
                    socket.Dispose();
                }
                path.Invoker.Dispose();
            }
        }

        Console.WriteLine(Render(paths, connections));
        return 0;
    }

    private static string Render(PathState[] paths, int connections)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"| protocol | path | round trip p50 (µs) | p99 (µs) | p99 / direct | messages/s ({connections} WebSockets) | / direct | / nginx | proxy CPU µs / message | per-round messages/s |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        var nginx = paths.Single(p => p.Spec.Name == "nginx");
        foreach (var path in paths)
        {
            var direct = paths.Single(p => p.Spec.Protocol == path.Spec.Protocol && p.Spec.Name == "direct");
            var (p50, p99) = (Percentile(path.RoundTrips, 0.50), Percentile(path.RoundTrips, 0.99));
            var vsNginx = path.Spec.Protocol == nginx.Spec.Protocol && path != nginx ? $"{path.Rate / nginx.Rate:0.00}×" : "—";
            var vsDirect = path == direct ? "—" : $"{p99 / Percentile(direct.RoundTrips, 0.99):0.00}×";
            var rateVsDirect = path == direct ? "—" : $"{path.Rate / direct.Rate:0.00}×";
            var cpu = path.Spec.ProxyCpu is null ? "—" : $"{path.ProxyCpu.TotalMicroseconds / path.Messages:0.0}";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {path.Spec.Protocol} | {path.Spec.Name} | {p50:0} | {p99:0} | {vsDirect} | {path.Rate:#,0} | {rateVsDirect} | {vsNginx} | {cpu} | {string.Join(" / ", path.RoundRates.Select(r => r.ToString("#,0", CultureInfo.InvariantCulture)))} |");
        }
        text.AppendLine();
        text.AppendLine("Targets: gateway p99 ≤ 1.2× direct; gateway messages/s ≥ nginx.");
        return text.ToString();
    }

    /// <summary>The <paramref name="quantile"/> of round-trip times, in microseconds.</summary>
    private static double Percentile(List<long> ticks, double quantile)
    {
        var sorted = ticks.Order().ToArray();
        var index = Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[index] * 1e6 / Stopwatch.Frequency;
    }
}
