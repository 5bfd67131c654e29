using System.Net.Sockets;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.FunctionalTests.TcpProxy;

/// <summary>The relay between two loopback sockets (spliced on Linux): messages of every size, both ways, in order.</summary>
public class TcpRelayTests
{
    [Fact]
    public async Task RunAsync_SmallMessagesThenBulkThenSmallBothWays_EveryByteArrivesInOrderAndHalfClosesPass()
    {
        var token = TestHost.TimeoutToken();
        var (client, downstream) = await SocketIo.ConnectedPairAsync(token);
        var (upstream, server) = await SocketIo.ConnectedPairAsync(token);
        using (client)
        using (server)
        {
            var relay = new TcpRelay(new SocketRelayEnd(downstream), new SocketRelayEnd(upstream), new RelayCounters(null, null, null, null),
                Timeout.InfiniteTimeSpan, TimeProvider.System);
            var running = relay.RunAsync();

            long expected = 0;
            // Ping-pong of small messages, a bulk burst each way, then small messages again.
            foreach (var size in new[] { 1, 100, 4000, 3 * 1024 * 1024, 32, 20_000, 7 })
            {
                var message = Payload.Expected(size);
                var atServer = SocketIo.ReadExactlyAsync(server, size, token);
                await SocketIo.SendAllAsync(client, message, token);
                Assert.Equal(message, await atServer);
                var atClient = SocketIo.ReadExactlyAsync(client, size, token);
                await SocketIo.SendAllAsync(server, message, token);
                Assert.Equal(message, await atClient);
                expected += size;
            }

            // Each half-close crosses on its own: the other direction still flows after the first.
            client.Shutdown(SocketShutdown.Send);
            Assert.Empty(await SocketIo.ReadToEndAsync(server, token));
            await SocketIo.SendAllAsync(server, "late"u8.ToArray(), token);
            server.Shutdown(SocketShutdown.Send);
            Assert.Equal("late"u8.ToArray(), await SocketIo.ReadToEndAsync(client, token));

            await running.WaitAsync(token);
            Assert.Equal(expected, relay.DownstreamBytes);
            Assert.Equal(expected + 4, relay.UpstreamBytes);
            downstream.Dispose();
            upstream.Dispose();
        }
    }
}
