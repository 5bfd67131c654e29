using System.Net;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.FunctionalTests.TcpProxy;

/// <summary>Resolve, vet, then connect: the socket connector against real loopback sockets.</summary>
public class SocketUpstreamConnectorTests
{
    private static UpstreamRequest Request(string address, Func<IPAddress, bool>? policy = null) =>
        new("c", new ClusterState("c"), new DestinationState("d"), address, TimeSpan.FromSeconds(10), AddressPolicy: policy);

    [Fact]
    public async Task ConnectAsync_HostName_ResolvesAndConnectsToAnAllowedAddress()
    {
        await using var echo = TcpEchoServer.Start();
        var vetted = new List<IPAddress>();
        var connector = new SocketUpstreamConnector(TimeProvider.System);

        // localhost resolves to ::1 too, where nothing listens: the connector moves on to the next allowed address.
        var result = await connector.ConnectAsync(Request($"tcp://localhost:{echo.Port}", a =>
        {
            vetted.Add(a);
            return IPAddress.IsLoopback(a);
        }), TestHost.TimeoutToken());

        await using var end = Assert.IsType<SocketRelayEnd>(result.End);
        Assert.Equal(UpstreamFailure.None, result.Failure);
        Assert.Contains(IPAddress.Loopback, vetted);
        await end.WriteAsync("ping"u8.ToArray(), TestHost.TimeoutToken());
        var reply = new byte[4];
        Assert.Equal(4, await end.ReadAsync(reply, TestHost.TimeoutToken()));
        Assert.Equal("ping"u8.ToArray(), reply);
    }

    [Fact]
    public async Task ConnectAsync_PolicyRefusesEveryResolvedAddress_PolicyDeniedWithoutConnecting()
    {
        await using var echo = TcpEchoServer.Start();
        var connector = new SocketUpstreamConnector(TimeProvider.System);

        var result = await connector.ConnectAsync(Request($"tcp://localhost:{echo.Port}", a => !IPAddress.IsLoopback(a)), TestHost.TimeoutToken());

        Assert.Null(result.End);
        Assert.Equal(UpstreamFailure.PolicyDenied, result.Failure);
        Assert.Contains("127.0.0.1", result.Reason, StringComparison.Ordinal);
        // Resolving alone never opened a connection to the refused address.
        Assert.Equal(0, echo.Accepted);
    }

    [Fact]
    public async Task ConnectAsync_PortBoundButNotListening_ConnectFailed()
    {
        using var bound = FreePort.BindRefusing();
        var connector = new SocketUpstreamConnector(TimeProvider.System);

        var result = await connector.ConnectAsync(Request($"tcp://127.0.0.1:{((IPEndPoint)bound.LocalEndPoint!).Port}"), TestHost.TimeoutToken());

        Assert.Null(result.End);
        Assert.Equal(UpstreamFailure.ConnectFailed, result.Failure);
    }

    [Theory]
    [InlineData("tcp://")]
    [InlineData("not an address")]
    [InlineData("tcp://127.0.0.1")]
    public async Task ConnectAsync_MalformedAddress_InvalidAddress(string address)
    {
        var result = await new SocketUpstreamConnector(TimeProvider.System).ConnectAsync(Request(address), TestHost.TimeoutToken());

        Assert.Equal(UpstreamFailure.InvalidAddress, result.Failure);
        Assert.Contains(address, result.Reason, StringComparison.Ordinal);
    }
}
