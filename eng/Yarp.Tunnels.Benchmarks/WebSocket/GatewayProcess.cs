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

    private GatewayProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static async Task<GatewayProcess> StartAsync(WebSocketHosts.Backend backend)
    {
        var port = E2e.Hosts.FreePort();
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("No process path to start the gateway with.");
        var info = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(GatewayProcess).Assembly.Location);
        }
        foreach (var argument in new[] { Mode, "--port", Str(port), "--h1", Str(backend.Http1Port), "--h2", Str(backend.Http2Port) })
        {
            info.ArgumentList.Add(argument);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("The gateway process did not start.");
        var gateway = new GatewayProcess(process, port);
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
            (int)E2e.E2eRunner.ReadOption(args, "--h1", 0), (int)E2e.E2eRunner.ReadOption(args, "--h2", 0));
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
