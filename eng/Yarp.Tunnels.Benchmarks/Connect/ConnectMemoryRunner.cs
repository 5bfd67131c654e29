using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Benchmarks.E2e;
using Yarp.Tunnels.Benchmarks.Tunneling;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Benchmarks.Connect;

/// <summary>
/// Memory per idle CONNECT tunnel: this process runs the gateway (an HTTP/1.1 CONNECT route, <c>Protocols: Auto</c>, like
/// the TcpTunnel sample's L2) whose cluster is an in-process echo on an internal listener, so the gateway holds one
/// socket per tunnel; the clients (<see cref="ConnectClients"/>) run in a child process. Reports what each tunnel adds
/// to the GC's committed memory after an aggressive collection (what a container's heap limit counts), RSS and VmData.
/// The same gateway runs alone as this program's <see cref="GatewayMode"/>, the CONNECT proxy of the h1tunnel-memory mode.
/// </summary>
internal static class ConnectMemoryRunner
{
    /// <summary>The child process mode that runs the gateway on <c>--port</c> until its input closes.</summary>
    public const string GatewayMode = "connect-gateway";

    /// <summary>The CONNECT target the gateway's route matches (and echoes).</summary>
    public const string EchoTarget = "echo:1";

    public static async Task<int> RunAsync(string[] args)
    {
        var requested = (int)E2eRunner.ReadOption(args, "--tunnels", 10_000);
        // One socket per tunnel here, and the warm-up batch's 200.
        var tunnels = Math.Min(requested, IdleTunnelMemory.FileLimitCapacity(1) - 200);
        var port = Hosts.FreePort();
        await using var gateway = await StartGatewayAsync(port);

        Console.WriteLine("# Yarp.Tunnels memory per idle CONNECT tunnel");
        Console.WriteLine();
        Console.WriteLine(BenchmarkMachine.Describe());
        Console.WriteLine("- Gateway in this process: HTTP/1.1 CONNECT on a socket listener (Protocols Auto) → route → envoy-internal://echo (an in-process echo: its objects are counted too).");
        Console.WriteLine("- Clients in a child process: CONNECT, 200, one byte echoed, then silence. Committed: GC.GetGCMemoryInfo().TotalCommittedBytes after an aggressive collection.");
        if (tunnels < requested)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"- {tunnels:#,0} tunnels, not {requested:#,0}: the open-file limit (ulimit -n) allows no more."));
        }
        Console.WriteLine();

        // A first batch warms the JIT and the pools; the baseline holds what tunnels share.
        await using var warmUp = await StartClientsAsync(port, 200);
        var (committed0, vmData0) = MemoryRunner.Measure();
        var rss0 = MemoryRunner.ProcessStatusBytes("VmRSS");
        var watch = Stopwatch.StartNew();
        await using var clients = await StartClientsAsync(port, tunnels);
        var opened = watch.Elapsed;
        var (committed1, vmData1) = MemoryRunner.Measure();
        var rss1 = MemoryRunner.ProcessStatusBytes("VmRSS");
        await MemoryRunner.HoldAsync(args);
        Console.WriteLine("| tunnels | committed per tunnel | RSS per tunnel | VmData per tunnel | opened in |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {tunnels:#,0} | {MemoryRunner.Kib((committed1 - committed0) / tunnels)} | {MemoryRunner.Kib((rss1 - rss0) / tunnels)} | {MemoryRunner.Kib((vmData1 - vmData0) / tunnels)} | {opened.TotalSeconds:0.0} s |"));
        return 0;
    }

    /// <summary>The child process: the gateway on <c>--port</c>, until the parent closes its input.</summary>
    public static async Task<int> RunGatewayAsync(string[] args)
    {
        await using var gateway = await StartGatewayAsync((int)E2eRunner.ReadOption(args, "--port", 0));
        await ChildProcess.RunUntilParentClosesAsync();
        return 0;
    }

    private static Task<ChildProcess> StartClientsAsync(int port, int count) =>
        ChildProcess.StartAsync(ConnectClients.Mode, "--port", ConnectClients.Str(port), "--count", ConnectClients.Str(count));

    private static Task<WebApplication> StartGatewayAsync(int port)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Listeners:l2:Address"] = $"tcp://127.0.0.1:{port}",
            ["ReverseProxy:Listeners:l2:Protocols"] = "Auto",
            ["ReverseProxy:Routes:tunnel:ClusterId"] = "echo",
            ["ReverseProxy:Routes:tunnel:Match:Hosts:0"] = EchoTarget,
            ["ReverseProxy:Routes:tunnel:Connect:Enabled"] = "true",
            ["ReverseProxy:Clusters:echo:Destinations:d1:Address"] = "envoy-internal://echo",
        };
        var registry = new InternalListenerRegistry();
        return Hosts.StartAsync(builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            var section = builder.Configuration.GetSection("ReverseProxy");
            builder.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, registry);
            builder.WebHost.ConfigureKestrel(k => k.ListenInternal("echo", o => o.Run(EchoAsync)));
        }, app => app.MapTunnelsReverseProxy());
    }

    private static async Task EchoAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                foreach (var segment in result.Buffer)
                {
                    await output.WriteAsync(segment);
                }
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (ConnectionResetException)
        {
            // The clients reset their tunnels when the run ends.
        }
    }
}
