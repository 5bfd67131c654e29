using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Configuration;

/// <summary>Removing an HTTP listener asks its clients to go away and lets in-flight requests finish within its DrainTimeout.</summary>
public class HttpListenerDrainTests
{
    private static string Json(string listeners, string clusters = "") => $$"""
        { "ReverseProxy": { "Listeners": { {{listeners}} }, "Clusters": { {{clusters}} } } }
        """;

    /// <summary>Requests held by <c>/slow</c> until the test releases them, then answered "done".</summary>
    private sealed class Held
    {
        private int _entered;

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Entered => Volatile.Read(ref _entered);

        public async Task HandleAsync(HttpContext context)
        {
            Interlocked.Increment(ref _entered);
            await Release.Task.WaitAsync(TestHost.Timeout);
            await context.Response.WriteAsync("done");
        }
    }

    private static Task<JsonConfigHost> StartAsync(string listeners, Held held, string clusters = "") =>
        JsonConfigHost.StartAsync(Json(listeners, clusters), map: app => app.MapGet("/slow", held.HandleAsync));

    [Fact]
    public async Task Drain_Http2AndHttp1ClientsOnRemovedSocketListeners_GoAwayConnectionCloseAndRequestsComplete()
    {
        var nghttp = ToolProcess.Require("nghttp");
        var held = new Held();
        await using var host = await StartAsync("""
            "h2": { "Address": "tcp://127.0.0.1:0", "Protocols": "Http2", "DrainTimeout": "00:00:30" },
            "h1": { "Address": "tcp://127.0.0.1:0", "Protocols": "Http1", "DrainTimeout": "00:00:30" }
            """, held);
        var (h2Port, h1Port) = (host.App.ListenerPort("h2"), host.App.ListenerPort("h1"));
        using var h2Client = StartLineBuffered(nghttp, ["-v", $"http://127.0.0.1:{h2Port}/slow"]);
        using var h1Client = await SocketIo.ConnectAsync(h1Port, TestHost.TimeoutToken());
        await SocketIo.SendAllAsync(h1Client, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), TestHost.TimeoutToken());
        await ListenerReloadTests.WaitUntilAsync(() => held.Entered == 2, () => $"both requests in flight; nghttp: {h2Client.Output}");

        await host.WriteAsync(Json(""));
        await host.App.WaitForListenerAsync("h2", ListenerState.Draining);
        await ListenerReloadTests.WaitUntilAsync(() => h2Client.Output.Contains("recv GOAWAY", StringComparison.Ordinal), () => $"nghttp received GOAWAY: {h2Client.Output}");
        // Longer than Kestrel's own 5 s endpoint-reload limit, well within the listeners' 30 s DrainTimeout.
        await Task.Delay(TimeSpan.FromSeconds(6));
        held.Release.SetResult();

        var h1Response = Encoding.ASCII.GetString(await SocketIo.ReadToEndAsync(h1Client, TestHost.TimeoutToken()));
        Assert.Contains("Connection: close", h1Response, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("HTTP/1.1 200 OK", h1Response, StringComparison.Ordinal);
        Assert.Contains("done", h1Response, StringComparison.Ordinal);
        // The body has no newline: it shows once nghttp exits and its output has been read.
        await ListenerReloadTests.WaitUntilAsync(() => h2Client.Output.Contains("done", StringComparison.Ordinal), () => $"nghttp got the body: {h2Client.Output}");
        await ListenerReloadTests.WaitUntilAsync(() => h2Client.HasExited, "nghttp finished");
        Assert.DoesNotContain("RST_STREAM", h2Client.Output, StringComparison.Ordinal);
        await ListenerReloadTests.WaitUntilAsync(() => host.App.Services.GetListeners().Count == 0, "both listeners drained");
    }

    [Fact]
    public async Task Drain_Http2ClientOfRemovedInternalListener_GetsGoAwayAndRequestCompletes()
    {
        var nghttp = ToolProcess.Require("nghttp");
        var held = new Held();
        const string Clusters = """
            "inner": { "Destinations": { "d": { "Address": "envoy-internal://inner" } } }
            """;
        // nghttp reaches the internal listener through a TCP proxy socket listener, which stays.
        await using var host = await StartAsync("""
            "front": { "Address": "tcp://127.0.0.1:0", "TcpProxy": { "ClusterId": "inner" } },
            "inner": { "Address": "envoy-internal://inner", "Protocols": "Http2" }
            """, held, Clusters);
        using var client = StartLineBuffered(nghttp, ["-v", $"http://127.0.0.1:{host.App.ListenerPort("front")}/slow"]);
        await ListenerReloadTests.WaitUntilAsync(() => held.Entered == 1, () => $"the request in flight; nghttp: {client.Output}");

        await host.WriteAsync(Json("""
            "front": { "Address": "tcp://127.0.0.1:0", "TcpProxy": { "ClusterId": "inner" } }
            """, Clusters.Replace("envoy-internal://inner", "tcp://127.0.0.1:1", StringComparison.Ordinal)));
        await ListenerReloadTests.WaitUntilAsync(() => client.Output.Contains("recv GOAWAY", StringComparison.Ordinal), () => $"nghttp received GOAWAY: {client.Output}");
        held.Release.SetResult();

        await ListenerReloadTests.WaitUntilAsync(() => client.Output.Contains("done", StringComparison.Ordinal), () => $"nghttp got the body: {client.Output}");
        await ListenerReloadTests.WaitUntilAsync(() => client.HasExited, "nghttp finished");
    }

    [Fact]
    public async Task Drain_RequestOutlivesDrainTimeout_ConnectionReset()
    {
        var held = new Held();
        await using var host = await StartAsync("""
            "web": { "Address": "tcp://127.0.0.1:0", "DrainTimeout": "00:00:01" }
            """, held);
        using var socket = await SocketIo.ConnectAsync(host.App.ListenerPort("web"), TestHost.TimeoutToken());
        await SocketIo.SendAllAsync(socket, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), TestHost.TimeoutToken());
        await ListenerReloadTests.WaitUntilAsync(() => held.Entered == 1, "the request in flight");

        await host.WriteAsync(Json(""));

        // Never released: the drain timeout resets the connection; the response never ends with "done".
        var received = await ReadUntilClosedAsync(socket);
        Assert.DoesNotContain("done", received, StringComparison.Ordinal);
        await ListenerReloadTests.WaitUntilAsync(() => host.App.Services.GetListeners().Count == 0, "web drained");
        held.Release.SetResult();
    }

    /// <summary>nghttp's stdout is block-buffered into a pipe; line buffering shows each frame as it arrives.</summary>
    private static ToolProcess StartLineBuffered(string tool, string[] arguments) =>
        ToolProcess.StartBackground(ToolProcess.Require("stdbuf"), ["-oL", tool, .. arguments]);

    private static async Task<string> ReadUntilClosedAsync(Socket socket)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, TestHost.TimeoutToken())) > 0)
            {
                text.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (SocketException)
        {
        }
        return text.ToString();
    }
}
