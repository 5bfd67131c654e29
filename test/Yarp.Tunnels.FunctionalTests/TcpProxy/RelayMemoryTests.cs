using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.TcpProxy;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Connections;
using Xunit.Abstractions;
using Yarp.Tunnels.Shared;

namespace Yarp.Tunnels.FunctionalTests.TcpProxy;

/// <summary>
/// Memory a relay commits per connection, measured as the GC's committed bytes (what a container's heap hard limit
/// counts), not as bytes a pipe holds: a pipe asked for a large block per small receive pins far more than it counts.
/// </summary>
// Alone: committed memory is process-wide.
[Collection(NonParallelCollection.Name)]
public class RelayMemoryTests(ITestOutputHelper output)
{
    private const int TrickleWrite = 1448;
    private const int InternalBufferKb = 64;
    // One block past the pause threshold: the most one receive or copy adds (PipeWriterExtensions.MaxBlockSize).
    private const int Slack = 64 * 1024;
    private const int MeasurementTolerance = 16 * 1024;
    // What an idle tunnel may commit beyond its socket buffers, here including the test's own client and backend sockets.
    // The target is 16 KiB, its goal 8 KiB.
    private const int IdleAllowance = 16 * 1024;

    private static Dictionary<string, string?> Chain(string backendAddress) => new()
    {
        ["Listeners:front:Address"] = "tcp://127.0.0.1:0",
        ["Listeners:front:TcpProxy:ClusterId"] = "encap_cluster",
        ["Listeners:front:TcpProxy:StatPrefix"] = "front_stats",
        ["Listeners:encap:Address"] = "envoy-internal://encap",
        ["Listeners:encap:BufferSizeKb"] = InternalBufferKb.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Listeners:encap:TcpProxy:ClusterId"] = "backend",
        ["Listeners:encap:TcpProxy:StatPrefix"] = "encap_stats",
        ["Clusters:encap_cluster:Destinations:encap:Address"] = "envoy-internal://encap",
        ["Clusters:backend:Destinations:d1:Address"] = backendAddress,
    };

    private static Dictionary<string, string?> Direct(string backendAddress) => new()
    {
        ["Listeners:front:Address"] = "tcp://127.0.0.1:0",
        ["Listeners:front:TcpProxy:ClusterId"] = "backend",
        ["Listeners:front:TcpProxy:StatPrefix"] = "front_stats",
        ["Clusters:backend:Destinations:d1:Address"] = backendAddress,
    };

    /// <summary>
    /// Clients trickle small writes (one TCP segment each, a pause between them) toward a backend that never reads,
    /// until the one proxy buffer in the path is full (past the pause threshold); then the memory committed per
    /// connection is measured. Internal hop: a socket TCP proxy into an internal listener that never reads, so the
    /// internal connection's pipe fills. Socket to socket: a backend socket that never reads, so the relay's own buffer
    /// fills once the kernel's socket buffers are full.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Relay_SlowTrickleIntoStalledReader_CommitsAtMostBufferPlus64KiBPerConnection(bool throughInternalListener)
    {
        const int Connections = 6;
        var registry = new InternalListenerRegistry();
        // Internal: accepts and never reads, until the client end closes.
        await using var stall = await TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal("stall", InternalBufferKb, o => o.Run(async connection =>
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, connection.ConnectionClosed);
                }
                catch (OperationCanceledException)
                {
                }
            })));
        }, _ => { });
        // Socket: a small receive window, so the kernel holds little before the proxy's buffer fills.
        await using var backend = TcpEchoServer.Start(static (_, ct) => Task.Delay(Timeout.Infinite, ct), receiveBufferSize: 4096);
        await using var host = await TunnelsTestHost.StartAsync(
            TunnelsTestHost.Section(Direct(throughInternalListener ? "envoy-internal://stall" : backend.Address)), registry);
        var port = host.TcpProxyPort("front");
        var token = TestHost.TimeoutToken();
        var bufferBytes = throughInternalListener ? InternalBufferKb * 1024 : TcpRelay.SocketBufferBytes;
        // Received from the clients (counted on receipt) but not handed to the backend: what the buffers hold.
        // Relays whose reading from the client is paused now (socket to socket: whatever holds the bytes, the relay's
        // buffer or a kernel pipe, is full).
        long Paused()
        {
            var stats = host.Stats();
            return stats.GetValueOrDefault("tcp.front_stats.downstream_flow_control_paused_reading_total")
                - stats.GetValueOrDefault("tcp.front_stats.downstream_flow_control_resumed_reading_total");
        }
        long Buffered()
        {
            var stats = host.Stats();
            return stats.GetValueOrDefault("tcp.front_stats.downstream_cx_rx_bytes_total")
                - (throughInternalListener ? 0 : stats.GetValueOrDefault("cluster.backend.upstream_cx_tx_bytes_total"));
        }

        // Opens the clients and trickles until every buffer paused: each stops its relay's receives at most one receive
        // past its threshold.
        async Task<List<Socket>> FillAsync(int count)
        {
            var start = Buffered();
            var pausedAtStart = Paused();
            var clients = new List<Socket>();
            for (var i = 0; i < count; i++)
            {
                var client = await SocketIo.ConnectAsync(port, token);
                // Non-blocking: a send that does not fit the client's socket buffer returns WouldBlock.
                client.Blocking = false;
                clients.Add(client);
            }
            var chunk = new byte[TrickleWrite];
            while (Buffered() - start < count * (long)bufferBytes && (throughInternalListener || Paused() - pausedAtStart < count))
            {
                foreach (var client in clients)
                {
                    client.Send(chunk, SocketFlags.None, out _);
                }
                // Quick while the kernel's buffers on the far side fill; a trickle once the proxy buffers.
                if (Buffered() == start)
                {
                    await Task.Yield();
                }
                else
                {
                    await Task.Delay(1, token);
                }
            }
            return clients;
        }

        // A first round fills the shared array pool as the measured round will, so the baseline holds the pool.
        var warmUp = await FillAsync(2);
        var baseline = CommittedMemory.Measure();
        var measured = await FillAsync(Connections);
        try
        {
            var perConnection = (CommittedMemory.Measure() - baseline) / Connections;

            output.WriteLine($"{perConnection / 1024} KiB committed per stalled connection with a {bufferBytes / 1024} KiB buffer");
            // The buffer, one block past its threshold, the connection's own objects (what an idle one costs) and the
            // measurement's own noise (arrays the shared pool keeps or hands out, GC granularity).
            Assert.True(perConnection <= bufferBytes + Slack + IdleAllowance + MeasurementTolerance,
                $"{perConnection / 1024} KiB committed per stalled connection with a {bufferBytes / 1024} KiB buffer");
        }
        finally
        {
            // Stalled connections end when the host stops (their close is queued behind data nobody reads).
            foreach (var client in warmUp.Concat(measured))
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Thousands of open two-hop tunnels that each echoed one byte and then went quiet.</summary>
    [Fact]
    public async Task Relay_2000IdleTunnelsThroughInternalListener_CommitAtMost16KiBEach()
    {
        const int Tunnels = 2000;
        var registry = new InternalListenerRegistry();
        await using var backend = TcpEchoServer.Start(static async (socket, ct) =>
        {
            var one = new byte[1];
            while (await socket.ReceiveAsync(one, SocketFlags.None, ct) > 0)
            {
                await socket.SendAsync(one, SocketFlags.None, ct);
            }
            socket.Shutdown(SocketShutdown.Send);
        });
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(Chain(backend.Address)), registry);
        var port = host.TcpProxyPort("front");
        var token = TestHost.TimeoutToken();

        async Task<Socket> OpenAsync()
        {
            var client = await SocketIo.ConnectAsync(port, token);
            await SocketIo.SendAllAsync(client, "x"u8.ToArray(), token);
            Assert.Equal("x"u8.ToArray(), await SocketIo.ReadExactlyAsync(client, 1, token));
            return client;
        }

        // Warm the pools and the JIT, so the baseline holds what any tunnel shares.
        (await OpenAsync()).Dispose();
        await host.WaitForStatAsync("tcp.front_stats.downstream_cx_active", 0);
        var baseline = CommittedMemory.Measure();
        var clients = new List<Socket>();
        try
        {
            for (var opened = 0; opened < Tunnels; opened += 100)
            {
                clients.AddRange(await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => OpenAsync())));
            }
            await host.WaitForStatAsync("tcp.encap_stats.downstream_cx_active", Tunnels);

            var perTunnel = (CommittedMemory.Measure() - baseline) / Tunnels;

            output.WriteLine($"{perTunnel} bytes committed per idle tunnel");
            Assert.True(perTunnel <= IdleAllowance, $"{perTunnel} bytes committed per idle tunnel");
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
        await host.WaitForStatAsync("tcp.front_stats.downstream_cx_active", 0, TimeSpan.FromSeconds(30));
    }
}
