using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Shared;

namespace Yarp.Tunnels.Benchmarks.E2e;

/// <summary>
/// Memory per connection: opens idle tunnels (one byte echoed, then silence) and stalled ones (a client trickling
/// 1,448-byte writes toward a backend that never reads, until the proxy stops taking them), and reports what each
/// connection adds to the GC's committed memory (what a container's heap hard limit counts) and to the process's VmData.
/// </summary>
internal static class MemoryRunner
{
    private const int TrickleWrite = 1448;

    public static async Task<int> RunAsync(string[] args)
    {
        var idle = (int)ReadOption(args, "--idle", 2000);
        var stalled = (int)ReadOption(args, "--stalled", 20);
        var bufferKb = (int)ReadOption(args, "--buffer-kb", InternalEndPoint.DefaultBufferSizeKb);

        Console.WriteLine("# Yarp.Tunnels memory per connection");
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"- {RuntimeInformation.OSDescription}; {RuntimeInformation.FrameworkDescription}; GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}."));
        Console.WriteLine("- Committed: GC.GetGCMemoryInfo().TotalCommittedBytes after an aggressive (compacting, decommitting) collection; VmData from /proc/self/status.");
        Console.WriteLine("- Clients and backends run in this process: their sockets' objects are included; kernel socket buffers are not.");
        Console.WriteLine();

        var rows = new List<string>
        {
            await MeasureAsync($"idle two-hop tunnel (tcp → envoy-internal, BufferSizeKb {bufferKb} → tcp)", idle, bufferKb, internalHop: true, stall: false),
            await MeasureAsync($"stalled two-hop tunnel, slow trickle (BufferSizeKb {bufferKb})", stalled, bufferKb, internalHop: true, stall: true),
            await MeasureAsync("stalled socket-to-socket tunnel, slow trickle", stalled, bufferKb, internalHop: false, stall: true),
        };

        Console.WriteLine("| connection | count | committed per connection | VmData per connection |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var row in rows)
        {
            Console.WriteLine(row);
        }
        return 0;
    }

    private static async Task<string> MeasureAsync(string name, int count, int bufferKb, bool internalHop, bool stall)
    {
        Console.Error.WriteLine($"{name}: {count} connections...");
        var registry = new InternalListenerRegistry();
        await using var backend = new Backend(stall);
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Listeners:front:Address"] = "tcp://127.0.0.1:0",
            ["ReverseProxy:Listeners:front:TcpProxy:ClusterId"] = internalHop ? "encap_cluster" : "backend",
            ["ReverseProxy:Listeners:encap:Address"] = "envoy-internal://encap",
            ["ReverseProxy:Listeners:encap:BufferSizeKb"] = bufferKb.ToString(CultureInfo.InvariantCulture),
            ["ReverseProxy:Listeners:encap:TcpProxy:ClusterId"] = "backend",
            ["ReverseProxy:Clusters:encap_cluster:Destinations:encap:Address"] = "envoy-internal://encap",
            ["ReverseProxy:Clusters:backend:Destinations:d1:Address"] = $"tcp://127.0.0.1:{backend.Port}",
        };
        await using var host = await Hosts.StartTunnelsAsync(registry, settings);
        var port = Hosts.TcpProxyPort(host, "front");

        // A first round warms the JIT and fills the shared array pool, so the baseline holds what connections share.
        var warmUp = await OpenAsync(port, Math.Min(count, 4), stall);
        var (committed0, vmData0) = Measure();
        var clients = await OpenAsync(port, count, stall);
        var (committed1, vmData1) = Measure();
        foreach (var client in warmUp.Concat(clients))
        {
            client.LingerState = new LingerOption(true, 0);
            client.Dispose();
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {count:#,0} | {Kib((committed1 - committed0) / count)} | {Kib((vmData1 - vmData0) / count)} |");
    }

    /// <summary>Opens <paramref name="count"/> clients; idle ones echo one byte, stalled ones trickle until the proxy stops reading.</summary>
    private static async Task<List<Socket>> OpenAsync(int port, int count, bool stall)
    {
        var clients = new List<Socket>();
        for (var opened = 0; opened < count; opened += 100)
        {
            clients.AddRange(await Task.WhenAll(Enumerable.Range(0, Math.Min(100, count - opened)).Select(async _ =>
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await client.ConnectAsync(IPAddress.Loopback, port);
                if (!stall)
                {
                    await client.SendAsync(new byte[] { 1 });
                    await client.ReceiveAsync(new byte[1]);
                }
                return client;
            })));
        }
        if (stall)
        {
            await TrickleUntilStalledAsync(clients);
        }
        return clients;
    }

    /// <summary>
    /// Trickles small writes (quickly at first, while the kernel buffers toward the backend fill, then about one per
    /// millisecond) until every client's own send buffer stayed full for 200 rounds: the proxy has stopped reading them.
    /// </summary>
    private static async Task TrickleUntilStalledAsync(List<Socket> clients)
    {
        var chunk = new byte[TrickleWrite];
        foreach (var client in clients)
        {
            client.Blocking = false;
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        for (int round = 0, allBlocked = 0; allBlocked < 200; round++)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The proxy kept reading from the trickling clients for 5 minutes.");
            }
            var blocked = 0;
            foreach (var client in clients)
            {
                client.Send(chunk, SocketFlags.None, out var error);
                blocked += error == SocketError.WouldBlock ? 1 : 0;
            }
            allBlocked = blocked == clients.Count ? allBlocked + 1 : 0;
            if (round < 2000)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1);
            }
        }
    }

    internal static (long Committed, long VmData) Measure()
    {
        var committed = CommittedMemory.Measure();
        return (committed, ProcessStatusBytes("VmData"));
    }

    /// <summary>
    /// With <c>--hold S</c>, keeps the measured connections open S seconds longer, so a heap snapshot can be taken
    /// (<c>dotnet-gcdump collect -p PID</c>) and shows what they hold.
    /// </summary>
    internal static async Task HoldAsync(string[] args)
    {
        var seconds = ReadOption(args, "--hold", 0);
        if (seconds > 0)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"holding the connections open for {seconds} s (process {Environment.ProcessId})..."));
            await Task.Delay(TimeSpan.FromSeconds(seconds));
        }
    }

    /// <summary>A size field of /proc/self/status (VmData, VmRSS), in bytes.</summary>
    internal static long ProcessStatusBytes(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    internal static string Kib(long bytes) => bytes >= 10 * 1024
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:#,0} KiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB");

    internal static double ReadOption(string[] args, string name, double fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && double.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : fallback;
    }

    /// <summary>Echoes one byte at a time, or (stalled) accepts and never reads, with a small receive window.</summary>
    private sealed class Backend : IAsyncDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _accepted = [];
        private readonly Task _acceptLoop;

        public Backend(bool stall)
        {
            if (stall)
            {
                _listener.ReceiveBufferSize = 4096;
            }
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(4096);
            Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
            _acceptLoop = AcceptLoopAsync(stall);
        }

        public int Port { get; }

        private async Task AcceptLoopAsync(bool stall)
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptAsync();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    return;
                }
                lock (_accepted)
                {
                    _accepted.Add(socket);
                }
                if (!stall)
                {
                    _ = EchoAsync(socket);
                }
            }
        }

        private static async Task EchoAsync(Socket socket)
        {
            var one = new byte[1];
            try
            {
                while (await socket.ReceiveAsync(one) > 0)
                {
                    await socket.SendAsync(one);
                }
            }
            catch (SocketException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Dispose();
            await _acceptLoop;
            lock (_accepted)
            {
                foreach (var socket in _accepted)
                {
                    socket.Dispose();
                }
            }
        }
    }
}
