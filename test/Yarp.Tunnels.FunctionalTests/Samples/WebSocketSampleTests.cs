using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Yarp.Tunnels.FunctionalTests.Common;
using static Microsoft.Playwright.Assertions;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>
/// The WebSocket sample on its fixed ports, driven by clients no one here wrote: headless Chromium (Debian's, through
/// Playwright), curl, npm ws, python3-h2, and ClientWebSocket over HTTP/2. The echo backend's first message says how
/// the client reached the gateway, which proves HTTP/2 clients used RFC 8441 extended CONNECT.
/// </summary>
[Collection(FixedPortsCollection.Name)]
public class WebSocketSampleTests(WebSocketSampleFixture sample) : IClassFixture<WebSocketSampleFixture>
{
    private const string BackendHop = "HTTP/2 extended-connect";

    [Theory]
    [InlineData("https://127.0.0.1:18443/", "HTTP/2 extended-connect")]
    [InlineData("http://127.0.0.1:18080/", "HTTP/1.1 upgrade")]
    public async Task Chromium_EchoPage_ExchangesMessagesOverTheClientsProtocol(string pageUrl, string clientHop)
    {
        var browser = await sample.BrowserAsync();
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);

        var response = await page.GotoAsync(pageUrl);
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.Equal(pageUrl, response.Url);
        Assert.Equal("WebSocket echo", await page.TitleAsync());

        var status = page.Locator("#status[data-state=open]");
        await status.WaitForAsync();
        Assert.True(clientHop == await status.GetAttributeAsync("data-client"), $"{await status.TextContentAsync()}{Environment.NewLine}{sample.Output}");
        Assert.Equal(BackendHop, await status.GetAttributeAsync("data-backend"));

        string[] messages = ["hello from chromium", "ünïcødé ✓", new string('z', 20_000)];
        foreach (var message in messages)
        {
            await page.FillAsync("#text", message);
            await page.ClickAsync("#send");
        }
        await Expect(page.Locator("#log li")).ToHaveTextAsync(messages.Select(m => "echo: " + m).ToArray());
    }

    [Fact]
    public async Task Curl_Http11UpgradeOn18080_Answers101ThenTheHello()
    {
        var curl = ToolProcess.Require("curl");
        // The connection stays open after the hello: curl stops at --max-time (exit 28) with everything received.
        var result = await ToolProcess.RunAsync(curl,
        [
            "-sS", "-i", "-N", "--http1.1", "--max-time", "2",
            "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
            "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "http://127.0.0.1:18080/ws/echo",
        ]);
        Assert.True(result.ExitCode is 0 or 28, result.ToString());
        var text = result.StdoutText;
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols", text, StringComparison.Ordinal);
        // RFC 6455's own example key and accept value.
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", text, StringComparison.Ordinal);
        Assert.Contains("""{"hello":"ws-echo","client":"HTTP/1.1 upgrade","backend":"HTTP/2 extended-connect"}""", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wss://127.0.0.1:18443/ws/echo")]
    [InlineData("ws://127.0.0.1:18080/ws/echo")]
    public async Task ClientWebSocket_Http2RequestVersionExact_UsesExtendedConnect(string url)
    {
        using var invoker = WebSocketClients.CreateInvoker();
        using var socket = await WebSocketClients.ConnectAsync(new Uri(url), HttpVersion.Version20, invoker);
        Assert.Equal(HttpStatusCode.OK, socket.HttpStatusCode);

        var (client, backend) = await WebSocketClients.ReceiveHelloAsync(socket);
        Assert.Equal("HTTP/2 extended-connect", client);
        Assert.Equal(BackendHop, backend);
        await WebSocketClients.AssertEchoesAsync(socket);
        await WebSocketClients.CloseAsync(socket);
    }

    [Theory]
    [InlineData("wss://127.0.0.1:18443/ws/echo")]
    [InlineData("ws://127.0.0.1:18080/ws/echo")]
    public async Task NodeWs_Http11Client_EchoesThroughTheGateway(string url)
    {
        var result = await InteropPeers.RunNodeClientAsync(url, "--hello", "--insecure", "--messages", "20");

        Assert.Equal("HTTP/1.1 upgrade", result.GetProperty("hello").GetProperty("client").GetString());
        Assert.Equal(BackendHop, result.GetProperty("hello").GetProperty("backend").GetString());
        Assert.Equal(20, result.GetProperty("echoed").GetInt32());
        Assert.Equal(1000, result.GetProperty("closeCode").GetInt32());
    }

    [Theory]
    [InlineData(WebSocketSampleFixture.HttpsPort, "--tls")]
    [InlineData(WebSocketSampleFixture.HttpPort, "--h2c")]
    public async Task PythonH2_ExtendedConnectByHand_EchoesThroughTheGateway(int port, string transport)
    {
        var result = await InteropPeers.RunPythonH2ClientAsync(port, "/ws/echo", transport, "--hello", "--messages", "10");

        Assert.Equal(1, result.GetProperty("enableConnectProtocol").GetInt32());
        Assert.Equal(200, result.GetProperty("status").GetInt32());
        Assert.Equal("HTTP/2 extended-connect", result.GetProperty("hello").GetProperty("client").GetString());
        Assert.Equal(10, result.GetProperty("echoed").GetInt32());
        Assert.Equal(1000, result.GetProperty("closeCode").GetInt32());
    }

    [Fact]
    public async Task Foo_Http11UpgradeOn18080_Answers101ThenEchoesRawBytes()
    {
        using var timeout = new CancellationTokenSource(TestHost.Timeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, WebSocketSampleFixture.HttpPort, timeout.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /upgrade/foo HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n"), timeout.Token);

        var received = new List<byte>();
        var buffer = new byte[64 * 1024];
        int headEnd;
        while ((headEnd = IndexOf(received, "\r\n\r\n"u8)) < 0)
        {
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.True(read > 0, $"closed before the response head: {Encoding.ASCII.GetString([.. received])}{Environment.NewLine}{sample.Output}");
            received.AddRange(buffer.AsSpan(0, read));
        }
        var head = Encoding.ASCII.GetString([.. received.Take(headEnd)]);
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols", head, StringComparison.Ordinal);
        Assert.Contains("Upgrade: foo", head, StringComparison.OrdinalIgnoreCase);

        // Raw bytes both ways (256 KiB: many reads and writes on each hop), echoed back byte for byte.
        var payload = RandomNumberGenerator.GetBytes(256 * 1024);
        await socket.SendAsync(payload, timeout.Token);
        var echo = new List<byte>(received.Skip(headEnd + 4));
        while (echo.Count < payload.Length)
        {
            var count = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.True(count > 0, $"closed after {echo.Count} of {payload.Length} echoed bytes{Environment.NewLine}{sample.Output}");
            echo.AddRange(buffer.AsSpan(0, count));
        }
        Bytes.AssertEqual(payload, echo.ToArray(), "foo echo");
    }

    [Theory]
    [InlineData("/ws/echo", "bar")]
    [InlineData("/ws/echo", "foo")]
    [InlineData("/upgrade/foo", "bar")]
    [InlineData("/upgrade/foo", "websocket")]
    public async Task Upgrade_TokenNotAllowedOnTheRoute_Refused403AndConnectionClosed(string path, string token)
    {
        var curl = ToolProcess.Require("curl");
        var result = await ToolProcess.RunAsync(curl,
        [
            "-sS", "-i", "--http1.1", "--max-time", "10",
            "-H", "Connection: Upgrade", "-H", $"Upgrade: {token}",
            "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            $"http://127.0.0.1:18080{path}",
        ]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("HTTP/1.1 403", result.StdoutText, StringComparison.Ordinal);
        Assert.Contains("Connection: close", result.StdoutText, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"'{token}' is not allowed", result.StdoutText, StringComparison.Ordinal);
    }

    private static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(haystack).IndexOf(needle);
}
