using System.Diagnostics;

namespace Yarp.Tunnels.Benchmarks;

/// <summary>
/// This program started again in one of its child modes (idle clients, a CONNECT gateway): it prints <see cref="Ready"/>
/// once set up and runs until its standard input closes, which disposing does. Keeping clients and peers out of the
/// measured process means their sockets count neither against its file limit nor its memory.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    public const string Ready = "ready";

    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    public static async Task<ChildProcess> StartAsync(params string[] arguments)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("No process path to start the child with.");
        var info = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var child = new ChildProcess(Process.Start(info) ?? throw new InvalidOperationException($"'{arguments[0]}' did not start."));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var line = await child._process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line != Ready)
        {
            var exited = child._process.HasExited ? $"exited with {child._process.ExitCode}" : "still running";
            await child.DisposeAsync();
            throw new InvalidOperationException($"The '{arguments[0]}' child process failed ({exited}; printed '{line}'; see its error output).");
        }
        return child;
    }

    /// <summary>In the child: reports it is set up, then waits until the parent closes its standard input.</summary>
    public static async Task RunUntilParentClosesAsync()
    {
        Console.WriteLine(Ready);
        await Console.In.ReadToEndAsync();
    }

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
