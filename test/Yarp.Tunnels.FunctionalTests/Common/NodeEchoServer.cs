using System.Text.Json;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// An npm <c>ws</c> echo server (HTTP/1.1 only) on a free loopback port: <c>Interop/node/ws-echo-server.js</c>.
/// Disposing kills it.
/// </summary>
internal sealed class NodeEchoServer : IDisposable
{
    private readonly ToolProcess _process;

    private NodeEchoServer(ToolProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static async Task<NodeEchoServer> StartAsync()
    {
        var node = ToolProcess.Require("node");
        var process = ToolProcess.StartBackground(node, [Path.Combine(InteropPeers.NodeDirectory, "ws-echo-server.js")]);
        try
        {
            var first = await WaitForLineAsync(process, line => line.StartsWith("{\"port\"", StringComparison.Ordinal));
            using var document = JsonDocument.Parse(first);
            return new NodeEchoServer(process, document.RootElement.GetProperty("port").GetInt32());
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>How the WebSocket whose request URL contains <paramref name="marker"/> arrived (url, httpVersion, upgrade).</summary>
    public async Task<JsonElement> WaitForConnectionAsync(string marker)
    {
        var line = await WaitForLineAsync(_process, l => l.Contains(marker, StringComparison.Ordinal) && l.StartsWith("{\"url\"", StringComparison.Ordinal));
        using var document = JsonDocument.Parse(line);
        return document.RootElement.Clone();
    }

    private static async Task<string> WaitForLineAsync(ToolProcess process, Func<string, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            if (process.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(match) is { } line)
            {
                return line;
            }
            Assert.False(process.HasExited, $"ws-echo-server.js exited:{Environment.NewLine}{process.Output}");
            Assert.True(DateTime.UtcNow < deadline, $"ws-echo-server.js did not print the expected line within 15 s:{Environment.NewLine}{process.Output}");
            await Task.Delay(20);
        }
    }

    public void Dispose() => _process.Dispose();
}
