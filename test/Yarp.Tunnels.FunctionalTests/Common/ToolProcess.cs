using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// An external process a test starts (curl, socat, nghttp, h2load, a sample app). Disposing kills its whole process
/// tree, so nothing outlives the test.
/// </summary>
internal sealed class ToolProcess : IDisposable
{
    private const string InstallHint = "install it (CI: apt-get install curl socat nghttp2-client)";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ToolProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote to stdout and stderr so far (background processes only).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Fails the test with a clear message when <paramref name="tool"/> is not on the PATH.</summary>
    public static string Require(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        Assert.Fail($"'{tool}' is required by this test but is not on the PATH; {InstallHint}.");
        return tool;
    }

    /// <summary>Starts a long-running process whose stdout and stderr are collected into <see cref="Output"/>.</summary>
    public static ToolProcess StartBackground(string tool, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = CreateStartInfo(tool, arguments, workingDirectory, environment);
        info.RedirectStandardInput = false;
        var process = new Process { StartInfo = info };
        var result = new ToolProcess(process);
        process.OutputDataReceived += (_, e) => result.Append(e.Data);
        process.ErrorDataReceived += (_, e) => result.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Waits (bounded) until the output has a match of <paramref name="pattern"/>; fails with the output if the process exits first.</summary>
    public async Task<Match> WaitForOutputAsync(Regex pattern, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TestHost.Timeout);
        while (true)
        {
            if (pattern.Match(Output) is { Success: true } match)
            {
                return match;
            }
            Assert.False(HasExited, $"The process exited before printing /{pattern}/:{Environment.NewLine}{Output}");
            Assert.True(DateTime.UtcNow < deadline, $"No output matching /{pattern}/ within {timeout ?? TestHost.Timeout}:{Environment.NewLine}{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits (bounded) for the process to exit with all its output read; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TestHost.Timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Runs a process to completion, feeding <paramref name="stdin"/> and collecting stdout as bytes; killed on timeout.</summary>
    public static async Task<ToolResult> RunAsync(string tool, IEnumerable<string> arguments, byte[]? stdin = null, TimeSpan? timeout = null)
    {
        var info = CreateStartInfo(tool, arguments, null, null);
        info.RedirectStandardInput = true;
        using var owner = new ToolProcess(new Process { StartInfo = info });
        var process = owner._process;
        process.Start();
        using var cts = new CancellationTokenSource(timeout ?? TestHost.Timeout);
        var stdout = ReadAllAsync(process.StandardOutput.BaseStream, cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin, cts.Token);
            }
            process.StandardInput.Close();
            await process.WaitForExitAsync(cts.Token);
            return new ToolResult(process.ExitCode, await stdout, await stderr);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"'{tool} {string.Join(' ', arguments)}' did not finish within {timeout ?? TestHost.Timeout}.");
        }
    }

    private static ProcessStartInfo CreateStartInfo(string tool, IEnumerable<string> arguments, string? workingDirectory,
        IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(tool)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        return info;
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        _process.Dispose();
    }
}

internal sealed record ToolResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public override string ToString() => $"exit {ExitCode}; stdout: {StdoutText}; stderr: {Stderr}";
}
