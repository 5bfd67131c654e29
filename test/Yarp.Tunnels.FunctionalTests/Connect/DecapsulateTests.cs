using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary><c>Decapsulate: true</c> driven by curl: the requests inside the tunnel are served by the gateway's own routes.</summary>
public class DecapsulateTests
{
    private static async Task<(WebApplication Backend, ConnectGateway Gateway)> StartAsync()
    {
        var backend = await TestHost.StartAsync(b => b.ListenLoopback(), app =>
            app.MapGet("/{**path}", (HttpContext c) => $"{c.Request.Headers["x-route"]} {c.Request.Path} xff={c.Request.Headers["X-Forwarded-For"]}"));
        var gateway = await ConnectGateway.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Routes:decap:ClusterId"] = "original",
            ["Routes:decap:Match:Hosts:0"] = "*.decap.test",
            ["Routes:decap:Connect:Decapsulate"] = "true",
            ["Routes:inner:ClusterId"] = "backend",
            ["Routes:inner:Match:Path"] = "/{**rest}",
            ["Routes:inner:Metadata:Connect.DecapsulatedBy"] = "decap",
            ["Routes:inner:Transforms:0:RequestHeader"] = "x-route",
            ["Routes:inner:Transforms:0:Set"] = "inner",
            ["Routes:outer:ClusterId"] = "backend",
            ["Routes:outer:Match:Path"] = "/{**rest}",
            ["Routes:outer:Transforms:0:RequestHeader"] = "x-route",
            ["Routes:outer:Transforms:0:Set"] = "outer",
            ["Clusters:original:Metadata:Connect.OriginalDestination"] = "true",
            ["Clusters:backend:Destinations:d1:Address"] = TestHost.Address(backend).ToString(),
        }), TestCertificates.CreateSelfSigned());
        return (backend, gateway);
    }

    [Theory]
    [InlineData("--http1.1", "1.1")]
    [InlineData("--http2-prior-knowledge", "2")]
    public async Task Decapsulate_CurlRequestInsideConnect_ServedByInnerRouteWithClientAddress(string inner, string version)
    {
        var curl = ToolProcess.Require("curl");
        var (backend, gateway) = await StartAsync();
        await using var _ = backend;
        await using var __ = gateway;

        // A host without listeners: the first tunnel has Kestrel bind the hidden endpoint that serves it.
        var result = await ToolProcess.RunAsync(curl, ["-sS", "-p", "-x", $"http://127.0.0.1:{gateway.Http1Port}", inner,
            "-w", " %{http_version}", "http://app.decap.test:8080/x/y"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"inner /x/y xff=127.0.0.1 {version}", result.StdoutText);
        // Outside the tunnel the same path reaches the outer route only.
        var outside = await ToolProcess.RunAsync(curl, ["-sS", $"http://127.0.0.1:{gateway.Http1Port}/x/y"]);
        Assert.Equal("outer /x/y xff=127.0.0.1", outside.StdoutText);
    }
}
