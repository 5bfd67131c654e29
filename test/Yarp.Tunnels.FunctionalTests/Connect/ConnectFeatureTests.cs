using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Playwright;
using Yarp.Tunnels.FunctionalTests.Common;
using static Yarp.Tunnels.FunctionalTests.Connect.ConnectGateway;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary>Proxy-Authorization, PROXY protocol headers, TLS origination, AllowPost and a browser through the gateway.</summary>
public sealed class ConnectFeatureTests(ConnectFixture fixture) : IClassFixture<ConnectFixture>
{
    private ConnectGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task Authorization_MissingOrWrongCredentials_407WithProxyAuthenticate_ValidOnesTunnel()
    {
        var curl = ToolProcess.Require("curl");
        string[] common = ["-s", "-v", "--max-time", "10", "-p", "-x", $"http://127.0.0.1:{Gateway.Http1Port}"];

        var missing = await ToolProcess.RunAsync(curl, [.. common, "telnet://auth.test:443"], Encoding.ASCII.GetBytes("x"));
        var wrong = await ToolProcess.RunAsync(curl, [.. common, "--proxy-user", "alice:wrong", "telnet://auth.test:443"], Encoding.ASCII.GetBytes("x"));
        var right = await ToolProcess.RunAsync(curl, [.. common, "--proxy-user", $"{ConnectFixture.User}:{ConnectFixture.Password}", "telnet://auth.test:443"],
            Encoding.ASCII.GetBytes("through"));

        Assert.Contains("< HTTP/1.1 407", missing.Stderr, StringComparison.Ordinal);
        Assert.Contains("< Proxy-Authenticate: Basic realm=\"yarp-tunnels\"", missing.Stderr, StringComparison.Ordinal);
        Assert.Contains("< HTTP/1.1 407", wrong.Stderr, StringComparison.Ordinal);
        Assert.Contains("< HTTP/1.1 200 Connection established", right.Stderr, StringComparison.Ordinal);
        Assert.Equal("through", right.StdoutText);
    }

    [Fact]
    public async Task ProxyProtocolV1_HeaderByteForByte()
    {
        var (socket, response, _) = await Gateway.SendConnectAsync("CONNECT pp1.test:443 HTTP/1.1\r\nHost: pp1.test:443\r\n\r\npayload", cancellationToken: TestHost.TimeoutToken());
        using (socket)
        {
            Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
            var clientPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
            socket.Shutdown(SocketShutdown.Send);

            var received = await fixture.ProxyProtocolTarget.NextAsync();
            Assert.Equal($"PROXY TCP4 127.0.0.1 127.0.0.1 {clientPort} {Gateway.Http1Port}\r\npayload", Encoding.ASCII.GetString(received));
            Assert.Equal("done", Encoding.ASCII.GetString(await SocketIo.ReadToEndAsync(socket, TestHost.TimeoutToken())));
        }
    }

    [Fact]
    public async Task ProxyProtocolV2_HeaderByteForByte()
    {
        var (socket, response, _) = await Gateway.SendConnectAsync("CONNECT pp2.test:443 HTTP/1.1\r\nHost: pp2.test:443\r\n\r\nxyz", cancellationToken: TestHost.TimeoutToken());
        using (socket)
        {
            Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
            var clientPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
            socket.Shutdown(SocketShutdown.Send);

            var received = await fixture.ProxyProtocolTarget.NextAsync();
            var expected = new byte[28];
            new byte[] { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C, 127, 0, 0, 1, 127, 0, 0, 1 }.CopyTo(expected, 0);
            BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(24), (ushort)clientPort);
            BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(26), (ushort)Gateway.Http1Port);
            Bytes.AssertEqual([.. expected, .. "xyz"u8.ToArray()], received, "PROXY v2 header and payload");
        }
    }

    [Fact]
    public async Task TlsOrigination_PlaintextClient_TlsBackendAnswers()
    {
        // The client speaks plain HTTP inside the tunnel; the gateway speaks TLS to the backend.
        var curl = await ToolProcess.RunAsync(ToolProcess.Require("curl"),
            ["-s", "--max-time", "10", "-p", "-x", $"http://127.0.0.1:{Gateway.Http1Port}", "http://tls.test:443/"]);

        Assert.True(curl.ExitCode == 0, curl.ToString());
        Assert.Contains("tls backend", curl.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsOrigination_ValidationOnByDefault_SelfSignedTarget502()
    {
        var (socket, response, _) = await Gateway.SendConnectAsync("CONNECT tls-strict.test:443 HTTP/1.1\r\nHost: tls-strict.test:443\r\n\r\n", cancellationToken: TestHost.TimeoutToken());
        socket.Dispose();

        Assert.StartsWith("HTTP/1.1 502", response, StringComparison.Ordinal);
        Assert.Contains("Proxy-Status: yarp-tunnels; error=tls_certificate_error", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--http1.1", "Transfer-Encoding: chunked")]
    [InlineData("--http1.1", "X-Body: content-length")]
    [InlineData("--http2-prior-knowledge", "X-Body: h2")]
    public async Task AllowPost_BodyInResponseBodyOut(string version, string header)
    {
        var port = version == "--http2-prior-knowledge" ? Gateway.Http2Port : Gateway.Http1Port;
        var body = Payload.Expected(200_000);
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(path, body);
            var curl = await ToolProcess.RunAsync(ToolProcess.Require("curl"),
                ["-s", "--max-time", "20", version, "-H", header, "-H", $"Host: 127.0.0.1:{Port(fixture.Echo.Port)}", "--data-binary", "@" + path,
                 $"http://127.0.0.1:{port}/tunnel"]);

            Assert.True(curl.ExitCode == 0, curl.ToString());
            Bytes.AssertEqual(body, curl.Stdout, "POST tunnel echo");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Chromium_WithProxyServer_LoadsHttpsPageThroughTunnel()
    {
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is required (CI: apt-get install chromium).");
        var totalBefore = Gateway.Stat("http.default.connect_tunnels_total");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            // Chromium sends loopback targets around a proxy unless told not to.
            Args = ["--ignore-certificate-errors", $"--proxy-server=http://127.0.0.1:{Gateway.Http1Port}", "--proxy-bypass-list=<-loopback>"],
            Timeout = 30_000,
        });
        var page = await browser.NewPageAsync();

        var response = await page.GotoAsync($"https://127.0.0.1:{fixture.TlsBackendPort}/", new() { Timeout = 30_000 });

        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.Equal("Through the tunnel", await page.TitleAsync());
        Assert.True(Gateway.Stat("http.default.connect_tunnels_total") > totalBefore, "the page did not come through a CONNECT tunnel");
    }
}
