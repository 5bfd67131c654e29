using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Shared;

namespace Yarp.Tunnels.Benchmarks.Connect;

/// <summary>
/// Memory per idle CONNECT tunnel: this process runs the gateway (an HTTP/1.1 CONNECT route, <c>Protocols: Auto</c>, like
/// the TcpTunnel sample's L2) whose cluster is an in-process echo on an internal listener, so the gateway holds one
/// socket per tunnel; the clients (<see cref="ConnectClients"/>) run in a child process. Reports what each tunnel adds
/// to the GC's committed memory after an aggressive collection (what a container's heap limit counts) and to VmData.
/// </summary>
internal static class ConnectMemoryRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        var tunnels = (int)E2e.E2eRunner.ReadOption(args, "--tunnels", 10_000);
        var port = E2e.Hosts.FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Listeners:l2:Address"] = $"tcp://127.0.0.1:{port}",
            ["ReverseProxy:Listeners:l2:Protocols"] = "Auto",
            ["ReverseProxy:Routes:tunnel:ClusterId"] = "echo",
            ["ReverseProxy:Routes:tunnel:Match:Hosts:0"] = "echo:1",
            ["ReverseProxy:Routes:tunnel:Connect:Enabled"] = "true",
            ["ReverseProxy:Clusters:echo:Destinations:d1:Address"] = "envoy-internal://echo",
        };
        var registry = new InternalListenerRegistry();
        await using var gateway = await E2e.Hosts.StartAsync(builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            var section = builder.Configuration.GetSection("ReverseProxy");
            builder.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, registry);
            builder.WebHost.ConfigureKestrel(k => k.ListenInternal("echo", o => o.Run(EchoAsync)));
        }, app => app.MapTunnelsReverseProxy());

        Console.WriteLine("# Yarp.Tunnels memory per idle CONNECT tunnel");
        Console.WriteLine();
        Console.WriteLine(BenchmarkMachine.Describe());
        Console.WriteLine("- Gateway in this process: HTTP/1.1 CONNECT on a socket listener (Protocols Auto) → route → envoy-internal://echo (an in-process echo: its objects are counted too).");
        Console.WriteLine("- Clients in a child process: CONNECT, 200, one byte echoed, then silence. Committed: GC.GetGCMemoryInfo().TotalCommittedBytes after an aggressive collection.");
        Console.WriteLine();

        // A first batch warms the JIT and the pools; the baseline holds what tunnels share.
        await using var warmUp = await ClientsProcess.StartAsync(port, 200);
        var (committed0, vmData0) = Measure();
        var watch = Stopwatch.StartNew();
        await using var clients = await ClientsProcess.StartAsync(port, tunnels);
        var opened = watch.Elapsed;
        var (committed1, vmData1) = Measure();
        Console.WriteLine("| tunnels | committed per tunnel | VmData per tunnel | opened in |");
        Console.WriteLine("|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {tunnels:#,0} | {(committed1 - committed0) / (double)tunnels / 1024:0.00} KiB | {(vmData1 - vmData0) / (double)tunnels / 1024:0.00} KiB | {opened.TotalSeconds:0.0} s |"));
        return 0;
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

    private static (long Committed, long VmData) Measure()
    {
        var committed = CommittedMemory.Measure();
        var vmData = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmData:", StringComparison.Ordinal));
        return (committed, long.Parse(vmData.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024);
    }

    /// <summary>A <c>connect-clients</c> child process holding <c>count</c> tunnels open until disposed.</summary>
    private sealed class ClientsProcess(Process process) : IAsyncDisposable
    {
        public static async Task<ClientsProcess> StartAsync(int port, int count)
        {
            var host = Environment.ProcessPath ?? throw new InvalidOperationException("No process path to start the clients with.");
            var info = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            {
                info.ArgumentList.Add(typeof(ClientsProcess).Assembly.Location);
            }
            foreach (var argument in new[] { ConnectClients.Mode, "--port", ConnectClients.Str(port), "--count", ConnectClients.Str(count) })
            {
                info.ArgumentList.Add(argument);
            }
            var clients = new ClientsProcess(Process.Start(info) ?? throw new InvalidOperationException("The clients did not start."));
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            if (await clients._process.StandardOutput.ReadLineAsync(timeout.Token) != ConnectClients.Ready)
            {
                await clients.DisposeAsync();
                throw new InvalidOperationException("The clients could not open their tunnels (see their error output).");
            }
            return clients;
        }

        private readonly Process _process = process;

        public async ValueTask DisposeAsync()
        {
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
            _process.Dispose();
        }
    }
}
