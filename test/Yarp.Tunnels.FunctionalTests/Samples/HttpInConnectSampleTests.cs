using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>Runs the built HttpInConnect sample (each half, and both in one process) on its fixed ports.</summary>
[Collection(FixedPortsCollection.Name)]
public class HttpInConnectSampleTests
{
    [Fact]
    public async Task Encap_CurlOn10000_ReachesHttpServerThroughTheTunnelOn10001()
    {
        var curl = ToolProcess.Require("curl");
        SampleProcess.AssertPortFree(10000);
        SampleProcess.AssertPortFree(10001);
        await using var origin = await TestHost.StartAsync(b => b.ListenLoopback(), app => app.MapGet("/{**path}", (HttpContext context) =>
            $"Hello, world! {context.Request.Protocol} {context.Request.Host}"));
        // An independent HTTP/1.1 CONNECT proxy on 10001 that sends every tunnel to the origin: the encap half's
        // tunnel is switched from its shipped HTTP/2 to HTTP/1.1 by configuration.
        using var proxy = await JsonLinePeer.StartAsync("/usr/bin/python3", Path.Combine(RepoPaths.Interop, "python", "h1_connect_proxy.py"),
            "--port", "10001", "--target", $"127.0.0.1:{TestHost.Address(origin).Port}");
        using var sample = SampleProcess.Start("HttpInConnect", "HttpInConnect", new Dictionary<string, string>
        {
            ["HTTPINCONNECT_ROLE"] = "encap",
            ["ReverseProxy__Listeners__encap__TcpProxy__Tunneling__Protocol"] = "Http1",
        });
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10000);

        var result = await ToolProcess.RunAsync(curl, ["-sS", "--max-time", "20", "http://127.0.0.1:10000/anything"]);

        Assert.True(result.ExitCode == 0, $"{result}{Environment.NewLine}sample output:{Environment.NewLine}{sample.Output}");
        Assert.Equal("Hello, world! HTTP/1.1 127.0.0.1:10000", result.StdoutText);
        var connect = await proxy.WaitForAsync("method");
        Assert.Equal("CONNECT", connect.GetProperty("method").GetString());
        Assert.Equal("host.com:443", connect.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Decap_CurlHttp1AndHttp2InsideConnectToHostCom_HelloWorld()
    {
        var curl = ToolProcess.Require("curl");
        SampleProcess.AssertPortFree(10001);
        using var sample = SampleProcess.Start("HttpInConnect", "HttpInConnect", new Dictionary<string, string> { ["HTTPINCONNECT_ROLE"] = "decap" });
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10001);

        // CONNECT host.com:443 (never resolved: the cluster is envoy-internal://decap), then HTTP/1.1 or h2c inside.
        foreach (var inner in new[] { "--http1.1", "--http2-prior-knowledge" })
        {
            var result = await ToolProcess.RunAsync(curl, ["-sS", "-p", "-x", "http://127.0.0.1:10001", inner, "-w", "%{http_version}", "http://host.com:443/"]);
            Assert.True(result.ExitCode == 0, $"{inner}: {result}{Environment.NewLine}sample output:{Environment.NewLine}{sample.Output}");
            Assert.Equal($"Hello, world!\n{(inner == "--http1.1" ? "1.1" : "2")}", result.StdoutText);
        }
        Assert.False(sample.HasExited, sample.Output);
    }


    [Fact]
    public async Task Both_CurlOn10000_HelloWorldThroughHttp2ConnectAndTheDecapLayer()
    {
        var curl = ToolProcess.Require("curl");
        SampleProcess.AssertPortFree(10000);
        SampleProcess.AssertPortFree(10001);
        using var sample = SampleProcess.Start("HttpInConnect", "HttpInConnect", new Dictionary<string, string>());
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10001);
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10000);

        var result = await ToolProcess.RunAsync(curl, ["-sS", "--max-time", "20", "http://127.0.0.1:10000/"]);

        Assert.True(result.ExitCode == 0, $"{result}{Environment.NewLine}sample output:{Environment.NewLine}{sample.Output}");
        Assert.Equal("Hello, world!\n", result.StdoutText);
        Assert.False(sample.HasExited, sample.Output);
    }
}
