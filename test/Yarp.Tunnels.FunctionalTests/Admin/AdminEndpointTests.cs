using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Admin;

/// <summary>The admin endpoint's pages and mutations, on a listener of its own that never reaches the app.</summary>
public sealed class AdminEndpointTests
{
    [Fact]
    public async Task Ready_HealthCheckFailThenOk_503DrainingThen200Live()
    {
        await using var gateway = await AdminGateway.StartAsync();

        Assert.Equal((HttpStatusCode.OK, "LIVE\n"), await GetAsync(gateway, "/ready"));
        using (var fail = await gateway.PostAsync("/healthcheck/fail"))
        {
            Assert.Equal(HttpStatusCode.OK, fail.StatusCode);
        }
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "DRAINING\n"), await GetAsync(gateway, "/ready"));
        using (var info = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/server_info")))
        {
            Assert.Equal("DRAINING", info.RootElement.GetProperty("state").GetString());
        }
        // Failing the health check drains nothing: the front still serves.
        await gateway.SendAsync("/hello", 1);
        using (var ok = await gateway.PostAsync("/healthcheck/ok"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        Assert.Equal((HttpStatusCode.OK, "LIVE\n"), await GetAsync(gateway, "/ready"));
    }

    [Theory]
    [InlineData("/healthcheck/fail")]
    [InlineData("/healthcheck/ok")]
    [InlineData("/drain_listeners")]
    [InlineData("/reset_counters")]
    public async Task Mutation_Get_405WithAllowPostAndNothingChanges(string path)
    {
        await using var gateway = await AdminGateway.StartAsync();

        using var response = await gateway.Admin.GetAsync(path);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["POST"], response.Content.Headers.Allow);
        Assert.Equal((HttpStatusCode.OK, "LIVE\n"), await GetAsync(gateway, "/ready"));
        await gateway.SendAsync("/hello", 1);
    }

    [Fact]
    public async Task AdminListener_AppPathsAndUnknownPaths_NeverReachTheAppAndTheAppNeverServesAdmin()
    {
        await using var gateway = await AdminGateway.StartAsync();

        // /hello is the app's route: on the admin listener it is an unknown admin path.
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(gateway, "/hello")).Status);
        using (var post = await gateway.Admin.PostAsync("/stats", content: null))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
            Assert.Equal(["GET"], post.Content.Headers.Allow);
        }
        // The admin's paths on the app's listener: the app has no such route.
        using (var stats = await gateway.Front.GetAsync("/stats"))
        {
            Assert.Equal(HttpStatusCode.NotFound, stats.StatusCode);
        }
        using var index = await gateway.Admin.GetAsync("/");
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        var html = await index.Content.ReadAsStringAsync();
        Assert.Contains("<a href=\"/stats\">", html, StringComparison.Ordinal);
        Assert.Contains("<form action=\"/healthcheck/fail\" method=\"post\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("cluster.c1.upstream_rq_total", (await gateway.StatsAsync()).Keys);
    }

    [Fact]
    public async Task ServerInfo_Json_VersionStateUptimeAndOptions()
    {
        await using var gateway = await AdminGateway.StartAsync();

        using var info = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/server_info"));

        var root = info.RootElement;
        Assert.Contains("Yarp.Tunnels", root.GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.Equal("LIVE", root.GetProperty("state").GetString());
        Assert.Matches("^[0-9]+s$", root.GetProperty("uptime_current_epoch").GetString());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("command_line_options").GetProperty("args").ValueKind);
        Assert.Equal("Test", root.GetProperty("command_line_options").GetProperty("environment").GetString());
    }

    [Fact]
    public async Task ResetCounters_Post_ZeroesCountersKeepsGauges()
    {
        await using var gateway = await AdminGateway.StartAsync();
        await gateway.SendAsync("/hello", 3);
        Assert.Equal("3", (await gateway.StatsAsync())["cluster.c1.upstream_rq_200"]);

        using (var reset = await gateway.PostAsync("/reset_counters"))
        {
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        }

        var stats = await gateway.StatsAsync();
        Assert.Equal(("0", "0", "1"), (stats["cluster.c1.upstream_rq_200"], stats["cluster.c1.upstream_rq_total"], stats["cluster.c1.membership_total"]));
        await gateway.SendAsync("/hello", 1);
        Assert.Equal("1", (await gateway.StatsAsync())["cluster.c1.upstream_rq_200"]);
    }

    [Fact]
    public async Task Clusters_TextAndJson_PerDestinationCountersHealthAndWeight()
    {
        await using var gateway = await AdminGateway.StartAsync();
        await gateway.SendAsync("/hello", 2);

        var text = (await gateway.Admin.GetStringAsync("/clusters")).Split('\n');
        using var json = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/clusters?format=json"));

        Assert.Contains("c1::d1::rq_total::2", text);
        Assert.Contains("c1::d1::rq_success::2", text);
        Assert.Contains("c1::d1::rq_error::0", text);
        Assert.Contains("c1::d1::cx_total::1", text);
        Assert.Contains("c1::d1::health_flags::healthy", text);
        Assert.Contains("c1::d1::weight::1", text);
        Assert.Contains($"c1::d1::address::{TestHost.Address(gateway.Backend)}", text);
        Assert.Contains("c2::d1::address::envoy-internal://inner", text);
        var c1 = json.RootElement.GetProperty("cluster_statuses").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "c1");
        var host = Assert.Single(c1.GetProperty("host_statuses").EnumerateArray());
        var hostStats = host.GetProperty("stats").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("value").GetInt64());
        Assert.Equal((2L, 1L), (hostStats["rq_total"], hostStats["cx_total"]));
        Assert.Equal("HEALTHY", host.GetProperty("health_status").GetProperty("eds_health_status").GetString());
    }

    [Fact]
    public async Task Listeners_TextAndJson_BoundAddressesIncludingInternalAndAdmin()
    {
        await using var gateway = await AdminGateway.StartAsync();
        var (front, admin) = (gateway.App.ListenerPort("front"), gateway.App.ListenerPort("admin"));

        var text = (await gateway.Admin.GetStringAsync("/listeners")).Split('\n');
        using var json = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/listeners?format=json"));

        Assert.Contains($"front::127.0.0.1:{front}", text);
        Assert.Contains($"admin::127.0.0.1:{admin}", text);
        Assert.Contains("inner::envoy-internal://inner", text);
        var statuses = json.RootElement.GetProperty("listener_statuses").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
        Assert.Equal(front, statuses["front"].GetProperty("local_address").GetProperty("socket_address").GetProperty("port_value").GetInt32());
        Assert.Equal("inner", statuses["inner"].GetProperty("local_address").GetProperty("envoy_internal_address").GetProperty("server_listener_name").GetString());
        Assert.Equal("BOUND", statuses["admin"].GetProperty("state").GetString());
    }

    [Fact]
    public async Task AuthorizationPolicy_RequestWithoutAndWithTheHeader_401Then200()
    {
        await using var gateway = await AdminGateway.StartAsync(
            services => services.AddAuthorization(o => o.AddPolicy("admins", p => p.RequireAssertion(
                c => c.Resource is HttpContext http && http.Request.Headers["X-Admin"] == "yes"))),
            new Dictionary<string, string?> { ["Admin:AuthorizationPolicy"] = "admins" });

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(gateway, "/stats")).Status);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ready") { Headers = { { "X-Admin", "yes" } } };
        using var response = await gateway.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(AdminGateway gateway, string path)
    {
        using var response = await gateway.Admin.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
