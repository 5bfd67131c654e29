using System.Text.Json;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// An independent HTTP/2 CONNECT proxy on a free loopback port: node's <c>http2</c> module
/// (<c>Interop/node/h2-connect-server.js</c>) or python3-h2 (<c>Interop/python/h2_connect_server.py</c>). Both relay
/// CONNECT and POST tunnels to their <c>:authority</c> and answer the same control targets (sessions, goaway, reset,
/// trailers, ping, status). Disposing kills it.
/// </summary>
internal sealed class H2ConnectPeer : IDisposable
{
    public const string Node = "node";
    public const string Python = "python";

    private readonly ToolProcess _process;

    private H2ConnectPeer(ToolProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"tcp://127.0.0.1:{Port}";

    /// <summary>What the peer printed (for failure messages).</summary>
    public string Output => _process.Output;

    /// <param name="kind"><see cref="Node"/> or <see cref="Python"/>.</param>
    /// <param name="maxStreams">The SETTINGS_MAX_CONCURRENT_STREAMS it announces, if any.</param>
    public static async Task<H2ConnectPeer> StartAsync(string kind, int? maxStreams = null)
    {
        string[] limit = maxStreams is { } max ? ["--max-streams", max.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];
        var process = kind == Node
            ? ToolProcess.StartBackground(ToolProcess.Require("node"), [Path.Combine(RepoPaths.Interop, "node", "h2-connect-server.js"), .. limit])
            : ToolProcess.StartBackground(InteropPeers.Python, [Path.Combine(RepoPaths.Interop, "python", "h2_connect_server.py"), .. limit]);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (true)
            {
                if (process.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("{\"port\"", StringComparison.Ordinal)) is { } line)
                {
                    using var document = JsonDocument.Parse(line);
                    return new H2ConnectPeer(process, document.RootElement.GetProperty("port").GetInt32());
                }
                Assert.False(process.HasExited, $"the {kind} HTTP/2 CONNECT server exited:{Environment.NewLine}{process.Output}");
                Assert.True(DateTime.UtcNow < deadline, $"the {kind} HTTP/2 CONNECT server printed no port within 15 s:{Environment.NewLine}{process.Output}");
                await Task.Delay(20);
            }
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    public void Dispose() => _process.Dispose();
}
