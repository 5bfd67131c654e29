using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Yarp.Tunnels.Benchmarks.E2e;

/// <summary>Drives HTTP/1.1 load with nghttp2's h2load, an external client that does not share this process's thread pool.</summary>
internal static partial class H2Load
{
    public const string InstallHint = "h2load was not found. Install it (Debian/Ubuntu: sudo apt-get install nghttp2-client; macOS: brew install nghttp2) and run again.";

    public static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, "h2load");
            if (File.Exists(path))
            {
                return path;
            }
        }
        return null;
    }

    /// <summary>Runs h2load against <paramref name="url"/> and returns req/s with this process's CPU over the main duration.</summary>
    public static async Task<Measurement> RunAsync(string h2load, string url, int connections, TimeSpan warmup, TimeSpan duration)
    {
        var start = new ProcessStartInfo(h2load)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--h1", "-t", "1", "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-D", Seconds(duration), "--warm-up-time", Seconds(warmup), url,
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("h2load did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // h2load warms up, then measures: sample this process's CPU over the main duration only.
        await Task.Delay(warmup);
        var window = Window.Start();
        using var timeout = new CancellationTokenSource(warmup + duration + TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        var (_, cpu) = window.Stop();
        var output = await stdout + await stderr;

        var finished = FinishedLine().Match(output);
        var requests = RequestsLine().Match(output);
        if (process.ExitCode != 0 || !finished.Success || !requests.Success)
        {
            throw new InvalidOperationException($"h2load failed (exit code {process.ExitCode}):{Environment.NewLine}{output}");
        }
        var seconds = ParseSeconds(finished.Groups["time"].Value);
        var rate = double.Parse(finished.Groups["rps"].Value, CultureInfo.InvariantCulture);
        var succeeded = long.Parse(requests.Groups["ok"].Value, CultureInfo.InvariantCulture);
        var failed = long.Parse(requests.Groups["failed"].Value, CultureInfo.InvariantCulture)
            + long.Parse(requests.Groups["errored"].Value, CultureInfo.InvariantCulture)
            + long.Parse(requests.Groups["timeout"].Value, CultureInfo.InvariantCulture);
        var status = StatusLine().Match(output);
        if (status.Success)
        {
            // h2load counts 4xx/5xx answers as succeeded; a 502 from the proxy is not a forwarded request.
            var errors = long.Parse(status.Groups["bad"].Value, CultureInfo.InvariantCulture) + long.Parse(status.Groups["worse"].Value, CultureInfo.InvariantCulture);
            succeeded -= errors;
            failed += errors;
        }
        return new Measurement(rate, succeeded, seconds, cpu, failed);
    }

    private static string Seconds(TimeSpan t) => ((long)Math.Ceiling(t.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";

    private static double ParseSeconds(string value) =>
        value.EndsWith("ms", StringComparison.Ordinal)
            ? double.Parse(value[..^2], CultureInfo.InvariantCulture) / 1000
            : double.Parse(value.TrimEnd('s'), CultureInfo.InvariantCulture);

    // finished in 5.00s, 12345.60 req/s, 1.23MB/s
    [GeneratedRegex(@"finished in (?<time>[0-9.]+m?s), (?<rps>[0-9.]+) req/s")]
    private static partial Regex FinishedLine();

    // requests: 61728 total, 61760 started, 61728 done, 61728 succeeded, 0 failed, 0 errored, 0 timeout
    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (?<ok>\d+) succeeded, (?<failed>\d+) failed, (?<errored>\d+) errored, (?<timeout>\d+) timeout")]
    private static partial Regex RequestsLine();

    // status codes: 61728 2xx, 0 3xx, 0 4xx, 0 5xx
    [GeneratedRegex(@"status codes: \d+ 2xx, \d+ 3xx, (?<bad>\d+) 4xx, (?<worse>\d+) 5xx")]
    private static partial Regex StatusLine();
}
