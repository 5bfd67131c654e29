using System.Globalization;
using System.Text.RegularExpressions;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>Runs the already-built FrontProxy sample as processes and reads what it prints and answers.</summary>
internal static partial class FrontProxySample
{
    /// <summary>Moves the front's listeners, its admin and the sidecars' admins to ephemeral ports (tests that need not the fixed ones).</summary>
    public static readonly string[] EphemeralPorts =
    [
        "--ReverseProxy:Listeners:front_http:Address=tcp://127.0.0.1:0",
        "--ReverseProxy:Listeners:front_https:Address=tcp://127.0.0.1:0",
        "--ReverseProxy:Admin:Address=127.0.0.1:0",
        "--FrontProxy:SidecarAdminBasePort=0",
    ];

    public static string Directory => RepoPaths.Sample("FrontProxy", "FrontProxy").Directory;

    public static ToolProcess Start(IEnumerable<string>? arguments = null, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        SampleProcess.Start("FrontProxy", "FrontProxy", environment, arguments, workingDirectory);

    /// <summary>Waits for the start-up banner; returns the port the banner says <paramref name="listener"/> is bound on.</summary>
    public static async Task<int> WaitForListenerAsync(ToolProcess sample, string listener)
    {
        var match = await sample.WaitForOutputAsync(new Regex($@"Listener {Regex.Escape(listener)}: \S+ bound on 127\.0\.0\.1:(\d+) \(Bound\)"));
        await sample.WaitForOutputAsync(StartedLine());
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>GETs each path in order over one curl run (one connection); returns the greetings' hostnames.</summary>
    public static async Task<IReadOnlyList<Greeting>> GetGreetingsAsync(int port, IEnumerable<string> paths, params string[] curlOptions)
    {
        var curl = ToolProcess.Require("curl");
        var urls = paths.Select(path => $"http://127.0.0.1:{port}{path}").ToList();
        var result = await ToolProcess.RunAsync(curl, ["-sS", "--fail", "--max-time", "20", .. curlOptions, .. urls]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var greetings = result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Greeting.Parse).ToList();
        Assert.Equal(urls.Count, greetings.Count);
        return greetings;
    }

    /// <summary>The admin endpoint's <c>/stats</c> counters and gauges (<c>name: value</c> lines), read with curl.</summary>
    public static async Task<IReadOnlyDictionary<string, long>> StatsAsync(int adminPort)
    {
        var curl = ToolProcess.Require("curl");
        var result = await ToolProcess.RunAsync(curl, ["-sS", "--fail", "--max-time", "20", $"http://127.0.0.1:{adminPort}/stats"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(": ", 2))
            .Where(parts => parts.Length == 2 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            .ToDictionary(parts => parts[0], parts => long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"started\. Press Ctrl\+C to shut down\.")]
    public static partial Regex StartedLine();

    /// <summary>One answer of a service replica: <c>Hello from behind Yarp.Tunnels (service N)! hostname: H resolvedhostname: A</c>.</summary>
    public sealed partial record Greeting(int Service, string Hostname, string ResolvedHostname)
    {
        public static Greeting Parse(string line)
        {
            var match = Pattern().Match(line);
            Assert.True(match.Success, $"not a greeting: '{line}'");
            return new Greeting(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), match.Groups[2].Value, match.Groups[3].Value);
        }

        [GeneratedRegex(@"^Hello from behind Yarp\.Tunnels \(service (\d+)\)! hostname: (\S+) resolvedhostname: (\S+)$")]
        private static partial Regex Pattern();
    }

    /// <summary>Asserts <paramref name="hostnames"/> cycle through <paramref name="replicas"/> distinct names in a fixed order.</summary>
    public static void AssertRoundRobin(IReadOnlyList<string> hostnames, int replicas)
    {
        Assert.Equal(replicas, hostnames.Distinct().Count());
        for (var i = replicas; i < hostnames.Count; i++)
        {
            Assert.True(hostnames[i] == hostnames[i - replicas], $"not round robin over {replicas}: {string.Join(", ", hostnames)}");
        }
    }
}
