using System.Net;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Upgrades.Interop;

/// <summary>
/// WebSockets through the gateway with peers no one here wrote, all four pairs of HTTP/1.1 / HTTP/2 client × HTTP/1.1 /
/// HTTP/2 backend: npm ws and ClientWebSocket over HTTP/1.1, python3-h2 (RFC 8441 by hand) and ClientWebSocket
/// (HTTP/2, RequestVersionExact) over h2c; backends npm ws (HTTP/1.1) and Kestrel on an internal listener (HTTP/2).
/// </summary>
public class WebSocketInteropTests(WebSocketInteropFixture gateway) : IClassFixture<WebSocketInteropFixture>
{
    public static TheoryData<string, string> Pairs()
    {
        var pairs = new TheoryData<string, string>();
        foreach (var client in new[] { "node-ws", "ClientWebSocket-h1", "python-h2", "ClientWebSocket-h2" })
        {
            foreach (var backend in new[] { "node-ws-h1", "kestrel-h2" })
            {
                pairs.Add(client, backend);
            }
        }
        return pairs;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task Forward_ClientToBackend_EchoesOverEachHopsProtocol(string client, string backend)
    {
        var id = Guid.NewGuid().ToString("N");
        var path = (backend == "kestrel-h2" ? "/ws/echo" : "/ws/node") + "?id=" + id;
        var http2Client = client.EndsWith("h2", StringComparison.Ordinal);

        switch (client)
        {
            case "node-ws":
                var node = await InteropPeers.RunNodeClientAsync($"ws://127.0.0.1:{gateway.Port}{path}", "--messages", "20");
                Assert.Equal(20, node.GetProperty("echoed").GetInt32());
                Assert.Equal(1000, node.GetProperty("closeCode").GetInt32());
                break;
            case "python-h2":
                var python = await InteropPeers.RunPythonH2ClientAsync(gateway.Port, path, "--messages", "10");
                Assert.Equal(200, python.GetProperty("status").GetInt32());
                Assert.Equal(10, python.GetProperty("echoed").GetInt32());
                Assert.Equal(1000, python.GetProperty("closeCode").GetInt32());
                break;
            default:
                var uri = new Uri($"ws://127.0.0.1:{gateway.Port}{path}");
                using (var socket = await WebSocketClients.ConnectAsync(uri, http2Client ? HttpVersion.Version20 : HttpVersion.Version11))
                {
                    await WebSocketClients.AssertEchoesAsync(socket);
                    await WebSocketClients.CloseAsync(socket);
                }
                break;
        }

        Assert.Equal(http2Client ? "HTTP/2 extended-connect" : "HTTP/1.1 upgrade", gateway.GatewayHop(id));
        if (backend == "kestrel-h2")
        {
            Assert.Equal("HTTP/2 extended-connect", gateway.BackendHop(id));
        }
        else
        {
            var arrived = await gateway.Node.WaitForConnectionAsync(id);
            Assert.Equal("1.1", arrived.GetProperty("httpVersion").GetString());
            Assert.Equal("websocket", arrived.GetProperty("upgrade").GetString());
        }
    }
}
