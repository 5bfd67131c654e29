using System.Text;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Connect;

/// <summary>Malformed HTTP/1.1 CONNECTs: the right 4xx, the connection closed, nothing established.</summary>
public sealed class ConnectMalformedTests(ConnectFixture fixture) : IClassFixture<ConnectFixture>
{
    private ConnectGateway Gateway => fixture.Gateway;

    [Theory]
    [InlineData("CONNECT 127.0.0.1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "is not host:port")]                          // missing port
    [InlineData("CONNECT 127.0.0.1:99999 HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n", 400, "is not host:port")]              // bad port
    [InlineData("CONNECT a b:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400, null)]                                                      // bad request line
    [InlineData("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:444\r\n\r\n", 400, null)]                                  // Host differs from the target
    [InlineData("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "Transfer-Encoding")]
    [InlineData("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\nContent-Length: 5\r\n\r\nhello", 400, "Content-Length")]
    [InlineData("CONNECT nomatch.test HTTP/1.1\r\nHost: nomatch.test\r\n\r\n", 400, "is not host:port")]                     // no route, no port
    public async Task Malformed_4xxAndClosed(string request, int status, string? reason)
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var established = Gateway.Stat("http.default.connect_tunnels_total");
        var (socket, head, _) = await Gateway.SendConnectAsync(request, cancellationToken: cts.Token);
        using (socket)
        {
            Assert.StartsWith($"HTTP/1.1 {status}", head, StringComparison.Ordinal);
            var rest = Encoding.ASCII.GetString(await SocketIo.ReadToEndAsync(socket, cts.Token));
            if (reason is not null)
            {
                Assert.Contains(reason, head + rest, StringComparison.Ordinal);
            }
        }
        Assert.Equal(established, Gateway.Stat("http.default.connect_tunnels_total"));
    }

    [Fact]
    public async Task AbsurdHeaders_431AndClosed()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var request = $"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\nX-Big: {new string('a', 64 * 1024)}\r\n\r\n";
        var (socket, head, _) = await Gateway.SendConnectAsync(request, cancellationToken: cts.Token);
        using (socket)
        {
            Assert.StartsWith("HTTP/1.1 431", head, StringComparison.Ordinal);
            await SocketIo.ReadToEndAsync(socket, cts.Token);
        }
    }

    [Fact]
    public async Task IncompleteHead_408AtRequestHeadersTimeout_SlowButTimelyServed()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var target = $"127.0.0.1:{ConnectGateway.Port(fixture.Echo.Port)}";

        // Slow but within RequestHeadersTimeout (3 s): the tunnel is established.
        using var slow = await SocketIo.ConnectAsync(Gateway.Http1Port, cts.Token);
        foreach (var part in new[] { $"CONNECT {target} HTTP/1.1\r\n", $"Host: {target}\r\n", "\r\n" })
        {
            await SocketIo.SendAllAsync(slow, Encoding.ASCII.GetBytes(part), cts.Token);
            await Task.Delay(500, cts.Token);
        }
        var (slowHead, _) = await ConnectGateway.ReadHeadAsync(slow, cts.Token);
        Assert.StartsWith("HTTP/1.1 200 Connection established", slowHead, StringComparison.Ordinal);

        // A head that never completes.
        using var stalled = await SocketIo.ConnectAsync(Gateway.Http1Port, cts.Token);
        await SocketIo.SendAllAsync(stalled, Encoding.ASCII.GetBytes($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"), cts.Token);
        var (head, _) = await ConnectGateway.ReadHeadAsync(stalled, cts.Token);
        Assert.StartsWith("HTTP/1.1 408", head, StringComparison.Ordinal);
        await SocketIo.ReadToEndAsync(stalled, cts.Token);
    }
}
