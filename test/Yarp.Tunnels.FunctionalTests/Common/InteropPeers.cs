using System.Globalization;
using System.Text.Json;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// WebSocket peers that no one here wrote, driven by small scripts under <c>Interop/</c>: the npm <c>ws</c> package (a
/// client, and an echo server: <see cref="NodeEchoServer"/>) and python3-h2 (an RFC 8441 client written by hand).
/// </summary>
internal static class InteropPeers
{
    /// <summary>Debian's python modules (python3-h2) load under this interpreter, not a <c>python3</c> found on the PATH.</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The node scripts' folder, with <c>ws</c> installed by <c>npm ci</c> (eng/test.sh does it).</summary>
    public static string NodeDirectory
    {
        get
        {
            var directory = Path.Combine(RepoPaths.Interop, "node");
            Assert.True(Directory.Exists(Path.Combine(directory, "node_modules", "ws")),
                $"npm ws is not installed in {directory}: run `bash eng/test.sh` (it runs npm ci there) or `npm ci --prefix {directory}`.");
            return directory;
        }
    }

    /// <summary>Runs <c>ws-client.js</c> (options: <c>--messages N</c>, <c>--hello</c>, <c>--insecure</c>) and returns its JSON result.</summary>
    public static async Task<JsonElement> RunNodeClientAsync(string url, params string[] options)
    {
        var node = ToolProcess.Require("node");
        var result = await ToolProcess.RunAsync(node, [Path.Combine(NodeDirectory, "ws-client.js"), url, .. options], timeout: ClientTimeout);
        return Parse("node ws-client.js", result);
    }

    /// <summary>Runs <c>h2_websocket_client.py</c> against 127.0.0.1 (options: <c>--tls</c>, <c>--hello</c>, <c>--messages N</c>).</summary>
    public static async Task<JsonElement> RunPythonH2ClientAsync(int port, string path, params string[] options)
    {
        Assert.True(File.Exists(Python), $"{Python} is required (CI: apt-get install python3-h2).");
        var script = Path.Combine(RepoPaths.Interop, "python", "h2_websocket_client.py");
        var result = await ToolProcess.RunAsync(Python, [script, "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), path, .. options],
            timeout: ClientTimeout);
        return Parse("h2_websocket_client.py", result);
    }

    private static JsonElement Parse(string tool, ToolResult result)
    {
        Assert.True(result.ExitCode == 0, $"{tool} failed: {result}");
        using var document = JsonDocument.Parse(result.StdoutText);
        return document.RootElement.Clone();
    }
}
