using System.Text.RegularExpressions;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>
/// The seed 003 walkthrough against the FrontProxy sample as shipped, with clients no one here wrote: curl over
/// HTTP/1.1 and HTTP/2 over TLS, nghttp and h2load over h2c.
/// </summary>
[Collection(FixedPortsCollection.Name)]
public class FrontProxySampleTests(FrontProxySampleFixture sample) : IClassFixture<FrontProxySampleFixture>
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task CurlVerbose_ServiceOnPort8080_200GreetingServerAndUpstreamTime(int service)
    {
        var curl = ToolProcess.Require("curl");
        var result = await ToolProcess.RunAsync(curl, ["-v", "--max-time", "20", $"http://localhost:8080/service/{service}"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("< HTTP/1.1 200 OK", result.Stderr, StringComparison.Ordinal);
        Assert.Matches(new Regex("^< server: yarp-tunnels\r?$", RegexOptions.Multiline | RegexOptions.IgnoreCase), result.Stderr);
        // Exactly one time header: the front's replaces the sidecar's.
        Assert.Single(Regex.Matches(result.Stderr, @"^< x-upstream-service-time: \d+\r?$", RegexOptions.Multiline | RegexOptions.IgnoreCase));
        var greeting = FrontProxySample.Greeting.Parse(result.StdoutText.TrimEnd('\n'));
        Assert.Equal(new FrontProxySample.Greeting(service, $"service{service}-1", $"envoy-internal://service{service}-1-app"), greeting);
    }

    [Fact]
    public async Task CurlHttp2_HttpsOn8443_Http2WithTheSelfSignedFrontProxyCertificate()
    {
        var curl = ToolProcess.Require("curl");
        var result = await ToolProcess.RunAsync(curl, ["-v", "-k", "--http2", "--max-time", "20", "-w", "\n%{http_version} %{http_code}", "https://localhost:8443/service/2"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("subject: CN=front-proxy", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("ALPN: server accepted h2", result.Stderr, StringComparison.Ordinal);
        var lines = result.StdoutText.Split('\n');
        Assert.Equal("2 200", lines[^1]);
        Assert.Equal(2, FrontProxySample.Greeting.Parse(lines[0]).Service);
        Assert.Matches(new Regex("^< server: yarp-tunnels\r?$", RegexOptions.Multiline), result.Stderr);
    }

    [Fact]
    public async Task Nghttp_H2cPriorKnowledgeOn8080_BothServicesAnswer()
    {
        var nghttp = ToolProcess.Require("nghttp");
        var result = await ToolProcess.RunAsync(nghttp, ["-v", "-t", "20", "http://127.0.0.1:8080/service/1", "http://127.0.0.1:8080/service/2"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var output = result.StdoutText;
        Assert.Equal(2, Regex.Matches(output, @"recv \(stream_id=\d+\) :status: 200").Count);
        Assert.Equal(2, Regex.Matches(output, @"recv \(stream_id=\d+\) server: yarp-tunnels").Count);
        Assert.Contains("Hello from behind Yarp.Tunnels (service 1)! hostname: service1-1", output, StringComparison.Ordinal);
        Assert.Contains("Hello from behind Yarp.Tunnels (service 2)! hostname: service2-1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task H2load_H2cAndHttp11On8080_EveryRequestSucceeds()
    {
        var h2load = ToolProcess.Require("h2load");
        foreach (var protocol in new[] { "--h1", "" })
        {
            var result = await ToolProcess.RunAsync(h2load, [.. protocol.Length > 0 ? [protocol] : Array.Empty<string>(), "-n", "200", "-c", "2", "-m", "4", "http://127.0.0.1:8080/service/1"]);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("200 total, 200 started, 200 done, 200 succeeded, 0 failed, 0 errored", result.StdoutText, StringComparison.Ordinal);
            Assert.Contains(protocol.Length > 0 ? "Application protocol: http/1.1" : "Application protocol: h2c", result.StdoutText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Admin_StatsAndServerInfo_CountExactlyWhatWasSent()
    {
        var before = await FrontProxySample.StatsAsync(FrontProxySampleFixture.AdminPort);
        var sidecarBefore = await FrontProxySample.StatsAsync(FrontProxySampleFixture.Service1SidecarAdminPort);

        await FrontProxySample.GetGreetingsAsync(FrontProxySampleFixture.HttpPort, [.. Enumerable.Repeat("/service/1", 5)]);

        var after = await FrontProxySample.StatsAsync(FrontProxySampleFixture.AdminPort);
        Assert.Equal(5, after["cluster.service1.upstream_rq_200"] - before.GetValueOrDefault("cluster.service1.upstream_rq_200"));
        Assert.Equal(5, after["cluster.service1.upstream_rq_total"] - before.GetValueOrDefault("cluster.service1.upstream_rq_total"));
        Assert.Equal(5, after["http.ingress_http.downstream_rq_total"] - before.GetValueOrDefault("http.ingress_http.downstream_rq_total"));
        Assert.Equal(1, after["cluster.service1.membership_total"]);
        Assert.True(after["cluster.service1.upstream_cx_http2_total"] >= 1, "the front → sidecar hop is not HTTP/2");
        // The sidecar's own admin counts the same requests in its own scope (8101: service1-1's sidecar).
        var sidecarAfter = await FrontProxySample.StatsAsync(FrontProxySampleFixture.Service1SidecarAdminPort);
        Assert.Equal(5, sidecarAfter["cluster.local_service.upstream_rq_200"] - sidecarBefore.GetValueOrDefault("cluster.local_service.upstream_rq_200"));
        Assert.DoesNotContain(sidecarAfter.Keys, k => k.StartsWith("cluster.service1.", StringComparison.Ordinal));

        var curl = ToolProcess.Require("curl");
        var serverInfo = await ToolProcess.RunAsync(curl, ["-sS", "--fail", "--max-time", "20", "http://localhost:8001/server_info"]);
        using var json = System.Text.Json.JsonDocument.Parse(serverInfo.StdoutText);
        Assert.Equal("LIVE", json.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public void Banner_ListsTheRealListenersOnly()
    {
        Assert.Contains("Listener front_http: tcp://127.0.0.1:8080 bound on 127.0.0.1:8080 (Bound)", sample.Output, StringComparison.Ordinal);
        Assert.Contains("Listener front_https: tcp://127.0.0.1:8443 bound on 127.0.0.1:8443 (Bound)", sample.Output, StringComparison.Ordinal);
        Assert.Contains("Listener admin: tcp://127.0.0.1:8001 bound on 127.0.0.1:8001 (Bound)", sample.Output, StringComparison.Ordinal);
        Assert.Contains("Replica service1-1: sidecar envoy-internal://service1-1 (h2c, admin http://127.0.0.1:8101) -> service envoy-internal://service1-1-app (HTTP/1.1)", sample.Output, StringComparison.Ordinal);
        // Kestrel's hidden endpoints (named pipes claimed by Yarp.Tunnels) are never announced.
        Assert.DoesNotContain("pipe:", sample.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening on", sample.Output, StringComparison.Ordinal);
    }
}
