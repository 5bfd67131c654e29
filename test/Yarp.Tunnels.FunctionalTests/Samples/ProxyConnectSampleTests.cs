using System.Security.Cryptography;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>Runs the built ProxyConnect sample on its fixed ports and drives it with socat and curl.</summary>
[Collection(FixedPortsCollection.Name)]
public class ProxyConnectSampleTests
{
    [Fact]
    public async Task Both_Http2Hop_EchoForwardedAndUpstreamRefusalRelayed()
    {
        var socat = ToolProcess.Require("socat");
        var curl = ToolProcess.Require("curl");
        foreach (var port in new[] { 10001, 10002, 10003 })
        {
            SampleProcess.AssertPortFree(port);
        }
        using var echo = ToolProcess.StartBackground(socat, ["TCP-LISTEN:10003,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        using var sample = SampleProcess.Start("ProxyConnect", "ProxyConnect");
        await SampleProcess.WaitUntilAcceptingAsync(echo, 10003);
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10002);
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10001);

        await AssertForwardsAndRelaysAsync(socat, curl, sample);
    }

    [Fact]
    public async Task ProxyAndUpstream_Http1Hop_EchoForwardedAndUpstreamRefusalRelayed()
    {
        var socat = ToolProcess.Require("socat");
        var curl = ToolProcess.Require("curl");
        foreach (var port in new[] { 10001, 10002, 10003 })
        {
            SampleProcess.AssertPortFree(port);
        }
        using var echo = ToolProcess.StartBackground(socat, ["TCP-LISTEN:10003,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        // The HTTP/1.1 hop (the README's variant), each half in its own process with its own override.
        using var upstream = SampleProcess.Start("ProxyConnect", "ProxyConnect", new Dictionary<string, string>
        {
            ["PROXYCONNECT_ROLE"] = "upstream",
            ["ReverseProxy__Listeners__upstream_proxy__Protocols"] = "Auto",
        });
        using var sample = SampleProcess.Start("ProxyConnect", "ProxyConnect", new Dictionary<string, string>
        {
            ["PROXYCONNECT_ROLE"] = "proxy",
            ["ReverseProxy__Clusters__cluster_0__HttpRequest__Version"] = "1.1",
        });
        await SampleProcess.WaitUntilAcceptingAsync(echo, 10003);
        await SampleProcess.WaitUntilAcceptingAsync(upstream, 10002);
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10001);

        await AssertForwardsAndRelaysAsync(socat, curl, sample);
        Assert.False(upstream.HasExited, upstream.Output);
    }

    /// <summary>A CONNECT to 127.0.0.1:10003 is echoed through both hops; one to 10004 gets the upstream's 403 and Proxy-Status.</summary>
    private static async Task AssertForwardsAndRelaysAsync(string socat, string curl, ToolProcess sample)
    {
        var input = RandomNumberGenerator.GetBytes(256 * 1024);
        var forwarded = await ToolProcess.RunAsync(socat, ["-t", "5", "-", "PROXY:127.0.0.1:127.0.0.1:10003,proxyport=10001"], input, TimeSpan.FromSeconds(30));
        Assert.True(forwarded.ExitCode == 0, $"{forwarded}{Environment.NewLine}sample output:{Environment.NewLine}{sample.Output}");
        Bytes.AssertEqual(input, forwarded.Stdout, "10001 → CONNECT to 10002 → 10003");

        // The upstream refuses 127.0.0.1:10004 with 403 and its Proxy-Status; the proxy relays both.
        var refused = await ToolProcess.RunAsync(curl, ["-s", "-o", "/dev/null", "-D", "-", "-p", "-x", "http://127.0.0.1:10001", "http://127.0.0.1:10004/"]);
        Assert.StartsWith("HTTP/1.1 403", refused.StdoutText, StringComparison.Ordinal);
        Assert.Contains("Proxy-Status: yarp-tunnels; error=", refused.StdoutText, StringComparison.OrdinalIgnoreCase);
        Assert.False(sample.HasExited, sample.Output);
    }
}
