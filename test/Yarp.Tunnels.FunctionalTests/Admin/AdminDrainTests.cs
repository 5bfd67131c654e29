using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.FunctionalTests.Configuration;

namespace Yarp.Tunnels.FunctionalTests.Admin;

/// <summary><c>POST /drain_listeners</c> against real clients, and the requests the admin must not count (health probes).</summary>
public sealed class AdminDrainTests
{
    [Fact]
    public async Task DrainListeners_Http2AndHttp1KeepAliveClients_GoAwayAndConnectionCloseThenClosed()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = 0;
        await using var gateway = await AdminGateway.StartAsync(
            extra: new Dictionary<string, string?> { ["Listeners:h2:Address"] = "tcp://127.0.0.1:0", ["Listeners:h2:Protocols"] = "Http2" },
            map: app => app.MapGet("/slow", async (HttpContext c) =>
            {
                Interlocked.Increment(ref entered);
                await release.Task.WaitAsync(TestHost.Timeout);
                await c.Response.WriteAsync("done");
            }));
        var (h2Port, h1Port) = (gateway.App.ListenerPort("h2"), gateway.App.ListenerPort("front"));
        // node's http2 client (python3-h2 closes its state machine at the first GOAWAY and cannot finish the stream).
        using var h2Client = ToolProcess.StartBackground(ToolProcess.Require("node"),
            [Path.Combine(RepoPaths.Interop, "node", "h2-goaway-client.js"), $"http://127.0.0.1:{h2Port.ToString(CultureInfo.InvariantCulture)}", "/slow"]);
        using var h1Client = await SocketIo.ConnectAsync(h1Port, TestHost.TimeoutToken());
        await SocketIo.SendAllAsync(h1Client, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), TestHost.TimeoutToken());
        await ListenerReloadTests.WaitUntilAsync(() => Volatile.Read(ref entered) == 2, () => $"both requests in flight; h2 client: {h2Client.Output}");

        using (var drain = await gateway.PostAsync("/drain_listeners"))
        {
            Assert.Equal(HttpStatusCode.OK, drain.StatusCode);
        }

        // Stopped accepting before the answer: the ports refuse new connections; the admin still answers, DRAINING.
        await Assert.ThrowsAnyAsync<SocketException>(async () => (await SocketIo.ConnectAsync(h1Port, TestHost.TimeoutToken())).Dispose());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gateway.Admin.GetAsync("/ready")).StatusCode);
        using (var info = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/server_info")))
        {
            Assert.Equal("DRAINING", info.RootElement.GetProperty("state").GetString());
        }
        await ListenerReloadTests.WaitUntilAsync(() => h2Client.Output.Contains("goaway 0 ", StringComparison.Ordinal), () => $"the h2 client got GOAWAY: {h2Client.Output}");
        release.SetResult();

        var h1Response = Encoding.ASCII.GetString(await SocketIo.ReadToEndAsync(h1Client, TestHost.TimeoutToken()));
        Assert.StartsWith("HTTP/1.1 200 OK", h1Response, StringComparison.Ordinal);
        Assert.Contains("Connection: close", h1Response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("done", h1Response, StringComparison.Ordinal);
        await ListenerReloadTests.WaitUntilAsync(() => h2Client.HasExited, () => $"the h2 client finished: {h2Client.Output}");
        Assert.True(h2Client.Output.Contains("status 200", StringComparison.Ordinal), h2Client.Output);
        Assert.Contains("data done", h2Client.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("reset", h2Client.Output, StringComparison.Ordinal);
        Assert.Contains("closed", h2Client.Output, StringComparison.Ordinal);
        await ListenerReloadTests.WaitUntilAsync(() => gateway.App.Services.GetListeners().All(l => l.Name == "admin"), "every listener but the admin's drained");
        Assert.Contains("admin::", await gateway.Admin.GetStringAsync("/listeners"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ActiveHealthProbes_OneDestinationHealthyOneRefusing_NotCountedAsRequestsAndMembershipHealthyFollows()
    {
        using var refusing = FreePort.BindRefusing();
        await using var gateway = await AdminGateway.StartAsync(extra: new Dictionary<string, string?>
        {
            ["Clusters:c1:HealthCheck:Active:Enabled"] = "true",
            ["Clusters:c1:HealthCheck:Active:Interval"] = "00:00:01",
            ["Clusters:c1:HealthCheck:Active:Path"] = "/health",
            ["Clusters:c1:Destinations:d2:Address"] = $"http://127.0.0.1:{((IPEndPoint)refusing.LocalEndPoint!).Port}",
        });
        var lookup = gateway.App.Services.GetRequiredService<IProxyStateLookup>();

        await ListenerReloadTests.WaitUntilAsync(() => lookup.TryGetCluster("c1", out var c1)
            && c1.Destinations["d1"].Health.Active == DestinationHealth.Healthy && c1.Destinations["d2"].Health.Active == DestinationHealth.Unhealthy,
            "c1's d1 probed healthy, d2 unhealthy");

        var stats = await gateway.StatsAsync();
        Assert.DoesNotContain("cluster.c1.upstream_rq_total", stats.Keys);
        Assert.DoesNotContain("cluster.c1.upstream_rq_200", stats.Keys);
        Assert.Equal(("2", "1", "1"), (stats["cluster.c1.membership_total"], stats["cluster.c1.membership_healthy"], stats["cluster.c1.upstream_cx_http1_total"]));
        Assert.Contains("c1::d2::health_flags::/failed_active_hc", (await gateway.Admin.GetStringAsync("/clusters")).Split('\n'));
        // YARP now sends every request to the healthy destination.
        await gateway.SendAsync("/hello", 2);
        Assert.Equal("2", (await gateway.StatsAsync())["cluster.c1.upstream_rq_200"]);
    }

    [Fact]
    public async Task UpstreamFailures_RefusedAndTimedOut_ChargedAs503AndAs504WithTimeout()
    {
        using var refusing = FreePort.BindRefusing();
        await using var gateway = await AdminGateway.StartAsync(
            extra: new Dictionary<string, string?>
            {
                ["Routes:down:ClusterId"] = "down",
                ["Routes:down:Match:Path"] = "/down",
                ["Clusters:down:Destinations:d1:Address"] = $"http://127.0.0.1:{((IPEndPoint)refusing.LocalEndPoint!).Port}",
                // /h2/held reaches /held (below) on the internal listener, which never answers within c2's ActivityTimeout.
                ["Clusters:c2:HttpRequest:ActivityTimeout"] = "00:00:00.300",
            },
            map: app => app.MapGet("/held", async (HttpContext c) => await Task.Delay(Timeout.Infinite, c.RequestAborted)));

        using (var down = await gateway.Front.GetAsync("/down"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        }
        using (var held = await gateway.Front.GetAsync("/h2/held"))
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, held.StatusCode);
        }

        var stats = await gateway.StatsAsync();
        Assert.Equal(("1", "1", "1", "1"), (stats["cluster.down.upstream_rq_total"], stats["cluster.down.upstream_rq_503"], stats["cluster.down.upstream_rq_5xx"],
            stats["cluster.down.external.upstream_rq_503"]));
        Assert.DoesNotContain("cluster.down.upstream_rq_timeout", stats.Keys);
        Assert.Equal(("1", "1", "1"), (stats["cluster.c2.upstream_rq_total"], stats["cluster.c2.upstream_rq_504"], stats["cluster.c2.upstream_rq_timeout"]));
        Assert.Equal("2", stats["http.ingress_http.downstream_rq_5xx"]);
        var clusters = (await gateway.Admin.GetStringAsync("/clusters")).Split('\n');
        Assert.Contains("down::d1::rq_error::1", clusters);
        Assert.Contains("c2::d1::rq_timeout::1", clusters);
    }
}
