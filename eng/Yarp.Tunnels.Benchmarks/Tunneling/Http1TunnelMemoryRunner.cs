using System.Globalization;
using Yarp.Tunnels.Benchmarks.Connect;
using Yarp.Tunnels.Benchmarks.E2e;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Benchmarks.Tunneling;

/// <summary>
/// Memory per open idle HTTP/1.1 CONNECT tunnel on the encapsulating side: client → L1 (a TCP proxy listener with
/// <c>Tunneling:Protocol Http1</c>, this process) → the connect-memory mode's CONNECT gateway (a child process) → its
/// in-process echo. L1 holds two sockets per tunnel (client and CONNECT proxy), so the open-file limit caps the count.
/// </summary>
internal static class Http1TunnelMemoryRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        var requested = (int)MemoryRunner.ReadOption(args, "--tunnels", 10_000);
        // Two sockets per tunnel here, and the warm-up round's.
        var tunnels = Math.Min(requested, IdleTunnelMemory.FileLimitCapacity(2) - 100);
        var proxyPort = Hosts.FreePort();
        await using var proxy = await ChildProcess.StartAsync(ConnectMemoryRunner.GatewayMode, "--port", ConnectClients.Str(proxyPort));
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Listeners:idle:Address"] = "tcp://127.0.0.1:0",
            ["ReverseProxy:Listeners:idle:TcpProxy:ClusterId"] = "proxy",
            ["ReverseProxy:Listeners:idle:TcpProxy:Tunneling:Hostname"] = ConnectMemoryRunner.EchoTarget,
            ["ReverseProxy:Listeners:idle:TcpProxy:Tunneling:Protocol"] = "Http1",
            ["ReverseProxy:Clusters:proxy:Destinations:d1:Address"] = $"tcp://127.0.0.1:{proxyPort}",
        };
        await using var host = await Hosts.StartTunnelsAsync(new InternalListenerRegistry(), settings);
        var idle = Hosts.TcpProxyPort(host, "idle");

        Console.WriteLine("# Yarp.Tunnels memory per idle HTTP/1.1 CONNECT tunnel, encapsulating side (L1)");
        Console.WriteLine();
        Console.WriteLine(BenchmarkMachine.Describe());
        Console.WriteLine("- L1 in this process: TCP proxy listener, Tunneling Protocol Http1 → the CONNECT gateway of the connect-memory mode (a child process) → its echo.");
        Console.WriteLine("- Clients in a child process: connect, one byte echoed through the tunnel, then silence. Committed: GC.GetGCMemoryInfo().TotalCommittedBytes after an aggressive collection.");
        if (tunnels < requested)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"- {tunnels:#,0} tunnels, not {requested:#,0}: L1 holds 2 sockets per tunnel and the open-file limit (ulimit -n) allows no more."));
        }
        Console.WriteLine();

        Console.Error.WriteLine($"{tunnels:#,0} idle tunnels...");
        var result = await IdleTunnelMemory.MeasureAsync(idle, tunnels, () => Task.Delay(500), () => { }, args);
        Console.WriteLine("| idle tunnels open | opened in | committed per tunnel | RSS per tunnel | VmData per tunnel |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {result.Tunnels:#,0} | {result.OpenSeconds:0.0} s | {MemoryRunner.Kib(result.CommittedPerTunnel)} | {MemoryRunner.Kib(result.RssPerTunnel)} | {MemoryRunner.Kib(result.VmDataPerTunnel)} |"));
        return 0;
    }
}
