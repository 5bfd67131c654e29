using System.Security.Cryptography;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>Runs the built TcpTunnel sample's L1 half as a process on its fixed ports, tunnelling through squid on 10001.</summary>
[Collection(FixedPortsCollection.Name)]
public class TcpTunnelSampleTests
{
    [Fact]
    public async Task L1H1Connect_SocatThrough10002AndSquidOn10001_ReachesEchoOn10003()
    {
        var socat = ToolProcess.Require("socat");
        foreach (var port in new[] { 10000, 10001, 10002, 10003 })
        {
            SampleProcess.AssertPortFree(port);
        }
        using var echo = ToolProcess.StartBackground(socat, ["TCP-LISTEN:10003,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        using var squid = await ProxyPeers.StartSquidAsync([10003], port: 10001);
        using var sample = SampleProcess.Start("TcpTunnel", "TcpTunnel", new Dictionary<string, string> { ["TUNNEL_ROLE"] = "l1", ["TUNNEL_MODE"] = "h1-connect" });
        await SampleProcess.WaitUntilAcceptingAsync(echo, 10003);
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10002);

        // squid ends a tunnel when the client half-closes: socat ignores its stdin's end (no FIN) and stops after 2 s without traffic.
        var input = RandomNumberGenerator.GetBytes(256 * 1024);
        var result = await ToolProcess.RunAsync(socat, ["-T", "2", "-,ignoreeof", "TCP:127.0.0.1:10002"], input, TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 0, $"{result}{Environment.NewLine}sample output:{Environment.NewLine}{sample.Output}");
        Bytes.AssertEqual(input, result.Stdout, "echo through 10002 → squid 10001 → 10003");
        Assert.False(sample.HasExited, sample.Output);
    }

    [Fact]
    public async Task L1DefaultMode_SocatThrough10002AndNodeHttp2ConnectOn10001_ReachesEchoOn10003()
    {
        var socat = ToolProcess.Require("socat");
        var node = ToolProcess.Require("node");
        foreach (var port in new[] { 10000, 10001, 10002, 10003 })
        {
            SampleProcess.AssertPortFree(port);
        }
        using var echo = ToolProcess.StartBackground(socat, ["TCP-LISTEN:10003,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        using var proxy = await JsonLinePeer.StartAsync(node, Path.Combine(RepoPaths.Interop, "node", "h2-connect-server.js"), "--port", "10001");
        // No TUNNEL_MODE: the default, h2-connect (classic HTTP/2 CONNECT).
        using var sample = SampleProcess.Start("TcpTunnel", "TcpTunnel", new Dictionary<string, string> { ["TUNNEL_ROLE"] = "l1" });
        await SampleProcess.WaitUntilAcceptingAsync(echo, 10003);
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10002);

        // HTTP/2 carries the half-close (END_STREAM), so socat's FIN at the end of stdin is fine here.
        var input = RandomNumberGenerator.GetBytes(256 * 1024);
        var result = await ToolProcess.RunAsync(socat, ["-t", "5", "-", "TCP:127.0.0.1:10002"], input, TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 0, $"{result}{Environment.NewLine}sample output:{Environment.NewLine}{sample.Output}{Environment.NewLine}proxy:{proxy.Output}");
        Bytes.AssertEqual(input, result.Stdout, "echo through 10002 → node http2 10001 → 10003");
    }

    [Fact]
    public async Task L2_H1ConnectH2PostAndPolicy_OnlyAllowedTargetsReached()
    {
        var socat = ToolProcess.Require("socat");
        var curl = ToolProcess.Require("curl");
        SampleProcess.AssertPortFree(10001);
        SampleProcess.AssertPortFree(10003);
        using var echo = ToolProcess.StartBackground(socat, ["TCP-LISTEN:10003,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        using var sample = SampleProcess.Start("TcpTunnel", "TcpTunnel", new Dictionary<string, string> { ["TUNNEL_ROLE"] = "l2" });
        await SampleProcess.WaitUntilAcceptingAsync(echo, 10003);
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10001);

        // HTTP/1.1 CONNECT by socat, which half-closes after its input: our L2 keeps the tunnel open for the echo.
        var input = RandomNumberGenerator.GetBytes(256 * 1024);
        var connect = await ToolProcess.RunAsync(socat, ["-t", "5", "-", "PROXY:127.0.0.1:127.0.0.1:10003,proxyport=10001"], input, TimeSpan.FromSeconds(30));
        Assert.True(connect.ExitCode == 0, $"{connect}{Environment.NewLine}sample output:{Environment.NewLine}{sample.Output}");
        Bytes.AssertEqual(input, connect.Stdout, "HTTP/1.1 CONNECT 127.0.0.1:10003 through L2");

        // HTTP/2 POST (prior knowledge on the same Auto port): the body is the stream to 10003, the echo the response body.
        var post = await ToolProcess.RunAsync(curl, ["-sS", "--http2-prior-knowledge", "--data-binary", "hello over h2 post", "http://127.0.0.1:10001/"]);
        Assert.True(post.ExitCode == 0, post.ToString());
        Assert.Equal("hello over h2 post", post.StdoutText);

        // Anything but 127.0.0.1:10003 and public :443 is refused: another loopback port, loopback on 443.
        foreach (var target in new[] { "http://127.0.0.1:10004/", "http://localhost:443/" })
        {
            var refused = await ToolProcess.RunAsync(curl, ["-s", "-o", "/dev/null", "-w", "%{http_connect}", "-p", "-x", "http://127.0.0.1:10001", target]);
            Assert.Equal("403", refused.StdoutText);
        }
        Assert.False(sample.HasExited, sample.Output);
    }

    [Theory]
    [InlineData("h1-connect")]
    [InlineData("h2-connect")]
    [InlineData("h2-post")]
    public async Task Both_L1ToL2InEachMode_SocatThrough10002EchoesWithHalfClose(string mode)
    {
        var socat = ToolProcess.Require("socat");
        foreach (var port in new[] { 10000, 10001, 10002, 10003 })
        {
            SampleProcess.AssertPortFree(port);
        }
        using var echo = ToolProcess.StartBackground(socat, ["TCP-LISTEN:10003,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        using var sample = SampleProcess.Start("TcpTunnel", "TcpTunnel", new Dictionary<string, string> { ["TUNNEL_ROLE"] = "both", ["TUNNEL_MODE"] = mode });
        await SampleProcess.WaitUntilAcceptingAsync(echo, 10003);
        await SampleProcess.WaitUntilAcceptingAsync(sample, 10002);

        // 10002 → L1 tunnel (CONNECT 127.0.0.1:10003 with foo: bar, or a POST) → L2 on 10001 → echo; socat's FIN after its
        // input is carried end to end (END_STREAM / the last chunk, then FIN to the echo, whose FIN comes back).
        var input = RandomNumberGenerator.GetBytes(1024 * 1024);
        var result = await ToolProcess.RunAsync(socat, ["-t", "5", "-", "TCP:127.0.0.1:10002"], input, TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 0, $"{result}{Environment.NewLine}sample output:{Environment.NewLine}{sample.Output}");
        Bytes.AssertEqual(input, result.Stdout, $"{mode}: echo through 10002 → L1 → L2 10001 → 10003");
        Assert.False(sample.HasExited, sample.Output);
    }

    [Theory]
    [InlineData("l3", "is not one of l1, l2, both")]
    public async Task Start_UnknownRole_ExitsWithClearError(string role, string expected)
    {
        using var sample = SampleProcess.Start("TcpTunnel", "TcpTunnel", new Dictionary<string, string> { ["TUNNEL_ROLE"] = role });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!sample.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(sample.HasExited, sample.Output);
        Assert.Contains(expected, sample.Output, StringComparison.OrdinalIgnoreCase);
    }
}
