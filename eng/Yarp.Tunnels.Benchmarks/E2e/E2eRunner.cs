using System.Globalization;
using System.Text;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Benchmarks.E2e;

/// <summary>
/// The scripted end-to-end run: the internal chain against the loopback chain (and a direct, proxy-less reference),
/// measured in one process in interleaved rounds, printed as markdown tables of absolute figures and ratios.
/// </summary>
internal static class E2eRunner
{
    private const int ConnectionLoops = 32;
    private const int HttpConnections = 32;

    private static readonly string[] Keys = ["bulk1", "bulk4", "conn", "http"];

    public static async Task<int> RunAsync(string[] args)
    {
        var duration = TimeSpan.FromSeconds(ReadOption(args, "--seconds", 5));
        var warmup = TimeSpan.FromSeconds(ReadOption(args, "--warmup", 0.5));
        var rounds = (int)ReadOption(args, "--rounds", 3);
        var only = ReadList(args, "--only") ?? [.. Keys];
        if (only.Except(Keys).FirstOrDefault() is { } unknown)
        {
            Console.Error.WriteLine($"--only: unknown measurement '{unknown}'; use a comma-separated subset of {string.Join(',', Keys)}.");
            return 2;
        }
        var h2load = H2Load.Find();
        if (h2load is null && only.Contains("http"))
        {
            Console.Error.WriteLine(H2Load.InstallHint);
            return 1;
        }

        Console.WriteLine("# Yarp.Tunnels end-to-end: internal vs loopback");
        Console.WriteLine();
        Console.WriteLine(BenchmarkMachine.Describe());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"- {duration.TotalSeconds:0.#} s per measurement and chain, in {rounds} interleaved rounds each after a {warmup.TotalSeconds:0.#} s warm-up. Clients, proxies and backends run in this process; the HTTP load comes from h2load."));
        Console.WriteLine("- WARNING: figures on a shared or 2-core machine drift 20-40% between runs (client, proxies and backends share the same cores); compare the ratios measured within one run.");
        Console.WriteLine();

        var registry = new InternalListenerRegistry();
        await using var backend = new RawBackend();
        var chains = await Hosts.StartTcpChainsAsync(registry, backend.Port);
        await using var tcpHost = chains.Host;
        await using var internalWeb = await Hosts.StartHttpBackendAsync(registry, "web");
        await using var loopbackWeb = await Hosts.StartHttpBackendAsync(registry, internalName: null);
        await using var internalFront = await Hosts.StartHttpFrontAsync(registry, "envoy-internal://web");
        await using var loopbackFront = await Hosts.StartHttpFrontAsync(registry, $"http://127.0.0.1:{Hosts.Port(loopbackWeb)}");

        // Run every path once first, so JIT tiering does not favour whichever chain is measured later.
        Console.Error.WriteLine("warming up...");
        foreach (var port in new[] { chains.InternalFrontPort, chains.LoopbackFrontPort, backend.Port })
        {
            await TcpLoad.BulkAsync(port, 1, backend, TimeSpan.Zero, TimeSpan.FromSeconds(0.5));
            await TcpLoad.ConnectionsAsync(port, ConnectionLoops, TimeSpan.Zero, TimeSpan.FromSeconds(0.5));
        }

        var rows = new List<Row>();
        var round = duration / rounds;
        var tcpPorts = new[] { chains.InternalFrontPort, chains.LoopbackFrontPort, backend.Port };
        if (only.Contains("bulk1"))
        {
            rows.Add(await MeasureAsync("TCP bulk, 1 stream", "Gbit/s", 8e-9, "CPU s/GB", 1e9, tcpPorts, rounds,
                p => TcpLoad.BulkAsync(p, 1, backend, warmup, round)));
        }
        if (only.Contains("bulk4"))
        {
            rows.Add(await MeasureAsync("TCP bulk, 4 streams", "Gbit/s", 8e-9, "CPU s/GB", 1e9, tcpPorts, rounds,
                p => TcpLoad.BulkAsync(p, 4, backend, warmup, round)));
        }
        if (only.Contains("conn"))
        {
            rows.Add(await MeasureAsync($"TCP connections ({ConnectionLoops} loops: connect, 1-byte echo, close)", "conn/s", 1, "CPU µs/conn", 1e6, tcpPorts, rounds,
                p => TcpLoad.ConnectionsAsync(p, ConnectionLoops, warmup, round)));
        }
        if (only.Contains("http"))
        {
            var httpPorts = new[] { Hosts.Port(internalFront), Hosts.Port(loopbackFront), Hosts.Port(loopbackWeb) };
            rows.Add(await MeasureAsync($"HTTP/1.1 GET / through YARP (h2load, {HttpConnections} connections)", "req/s", 1, "CPU µs/req", 1e6, httpPorts, rounds,
                p => H2Load.RunAsync(h2load!, $"http://127.0.0.1:{p}/", HttpConnections, warmup, round)));
        }

        Console.WriteLine(Render(rows));
        var failures = rows.Sum(r => r.Results.Sum(m => m.Failures));
        if (failures > 0)
        {
            Console.WriteLine($"WARNING: {failures} connections or requests failed during the measurement windows (see the failures column).");
        }
        return 0;
    }

    /// <summary>Measures internal, loopback and direct in interleaved rounds and sums each one's windows.</summary>
    private static async Task<Row> MeasureAsync(string name, string unit, double unitScale, string cpuUnit, double cpuUnitSize,
        int[] ports, int rounds, Func<int, Task<Measurement>> run)
    {
        var results = new Measurement[ports.Length][];
        for (var i = 0; i < ports.Length; i++)
        {
            results[i] = new Measurement[rounds];
        }
        Console.Error.Write($"{name}:");
        for (var r = 0; r < rounds; r++)
        {
            // Alternate the order too, so a drift in machine load does not always favour the same chain.
            var order = r % 2 == 0 ? new[] { 0, 1, 2 } : [1, 0, 2];
            foreach (var i in order)
            {
                results[i][r] = await run(ports[i]);
            }
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                $" [round {r + 1}: {results[0][r].Rate * unitScale:0.##} / {results[1][r].Rate * unitScale:0.##} / {results[2][r].Rate * unitScale:0.##}]"));
        }
        Console.Error.WriteLine();
        var totals = results.Select(Measurement.Sum).ToArray();
        var ratios = Enumerable.Range(0, rounds).Select(r => results[0][r].Rate / results[1][r].Rate).ToArray();
        return new Row(name, unit, unitScale, cpuUnit, cpuUnitSize, totals, ratios.Min(), ratios.Max());
    }

    private static string Render(List<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| Measurement | Unit | internal | loopback | internal / loopback | per-round ratio range | direct, no proxy (reference) |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var (i, l, d) = (row.Results[0], row.Results[1], row.Results[2]);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Name} | {row.Unit} | {Format(i.Rate * row.UnitScale)} | {Format(l.Rate * row.UnitScale)} | **{i.Rate / l.Rate:0.00}×** | {row.MinRatio:0.00}–{row.MaxRatio:0.00} | {Format(d.Rate * row.UnitScale)} |");
        }
        text.AppendLine();
        text.AppendLine("CPU time this process used per unit of work during the windows (for TCP this includes the in-process clients and the backend;");
        text.AppendLine("for HTTP it is the front and backend hosts only, h2load runs outside). Lower is better.");
        text.AppendLine();
        text.AppendLine("| Measurement | Unit | internal | loopback | loopback / internal | direct | cores busy (internal / loopback / direct) | failures (internal / loopback / direct) |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var (i, l, d) = (row.Results[0], row.Results[1], row.Results[2]);
            double Cost(Measurement m) => m.CpuPerUnit * row.CpuUnitSize;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Name} | {row.CpuUnit} | {Cost(i):0.00} | {Cost(l):0.00} | {Cost(l) / Cost(i):0.00}× | {Cost(d):0.00} | {i.CpuCores:0.00} / {l.CpuCores:0.00} / {d.CpuCores:0.00} | {i.Failures} / {l.Failures} / {d.Failures} |");
        }
        return text.ToString();
    }

    private static string Format(double value) => value switch
    {
        >= 1000 => value.ToString("#,0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.00", CultureInfo.InvariantCulture),
    };

    internal static double ReadOption(string[] args, string name, double fallback)
    {
        var index = Array.IndexOf(args, name);
        if (index < 0)
        {
            return fallback;
        }
        if (index + 1 >= args.Length || !double.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            throw new ArgumentException($"{name} needs a positive number.");
        }
        return value;
    }

    internal static HashSet<string>? ReadList(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1].Split(',').ToHashSet(StringComparer.OrdinalIgnoreCase) : null;
    }

    /// <param name="Results">internal, loopback, direct: each summed over the rounds.</param>
    private sealed record Row(string Name, string Unit, double UnitScale, string CpuUnit, double CpuUnitSize, Measurement[] Results, double MinRatio, double MaxRatio);
}
