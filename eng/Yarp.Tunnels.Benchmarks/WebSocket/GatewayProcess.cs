using System.Diagnostics;
using System.Globalization;

namespace Yarp.Tunnels.Benchmarks.WebSocket;

/// <summary>
/// The gateway of the WebSocket run in a process of its own (this program's <c>websocket-gateway</c> mode), so it gets
/// its CPU share beside the in-process clients and backend the way nginx does.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    public const string Mode = "websocket-gateway";
    private const string Ready = "ready";

    private readonly Process _process;

    private GatewayProcess(Process process, int port, int tcpPort, int yarpPort)
    {
        _process = process;
        Port = port;
        TcpPort = tcpPort;
        YarpPort = yarpPort;
    }

    /// <summary>The gateway's HTTP listener (<c>Protocols: Auto</c>).</summary>
    public int Port { get; }

    /// <summary>The gateway's TCP proxy listener to the backend's HTTP/1.1 port: the relay alone, for reference.</summary>
    public int TcpPort { get; }

    /// <summary>YARP alone (<see cref="WebSocketHosts.StartYarpAsync"/>), for reference.</summary>
    public int YarpPort { get; }

    /// <summary>CPU time the gateway process has used so far (user + system).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <param name="backend">The backend the gateway's routes forward to.</param>
    /// <param name="environment">Variables set for the gateway process only (runtime settings such as inline socket completions).</param>
    public static async Task<GatewayProcess> StartAsync(WebSocketHosts.Backend backend, IReadOnlyDictionary<string, string> environment)
    {
        var (port, tcpPort, yarpPort) = (E2e.Hosts.FreePort(), E2e.Hosts.FreePort(), E2e.Hosts.FreePort());
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("No process path to start the gateway with.");
        var info = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(GatewayProcess).Assembly.Location);
        }
        foreach (var argument in new[] { Mode, "--port", Str(port), "--tcp-port", Str(tcpPort), "--yarp-port", Str(yarpPort), "--h1", Str(backend.Http1Port), "--h2", Str(backend.Http2Port) })
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("The gateway process did not start.");
        var gateway = new GatewayProcess(process, port, tcpPort, yarpPort);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        if (await process.StandardOutput.ReadLineAsync(timeout.Token) != Ready)
        {
            await gateway.DisposeAsync();
            throw new InvalidOperationException("The gateway process did not start serving.");
        }
        return gateway;
    }

    /// <summary>The <c>websocket-gateway</c> mode: serves until its standard input closes.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        await using var gateway = await WebSocketHosts.StartGatewayAsync((int)E2e.E2eRunner.ReadOption(args, "--port", 0),
            (int)E2e.E2eRunner.ReadOption(args, "--tcp-port", 0),
            (int)E2e.E2eRunner.ReadOption(args, "--h1", 0), (int)E2e.E2eRunner.ReadOption(args, "--h2", 0));
        await using var yarp = await WebSocketHosts.StartYarpAsync((int)E2e.E2eRunner.ReadOption(args, "--yarp-port", 0), (int)E2e.E2eRunner.ReadOption(args, "--h1", 0));
        Console.WriteLine(Ready);
        await Console.In.ReadToEndAsync();
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
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

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
