using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.TcpProxy;

public class TcpProxyListenerTests
{
    private const int FiveMiB = 5 * 1024 * 1024;

    /// <summary>A socket TCP proxy listener <c>front</c> on an ephemeral loopback port relaying to cluster <c>backend</c>.</summary>
    private static Dictionary<string, string?> SocketProxy(string backendAddress, string? idleTimeout = null) => new()
    {
        ["Listeners:front:Address"] = "tcp://127.0.0.1:0",
        ["Listeners:front:TcpProxy:ClusterId"] = "backend",
        ["Listeners:front:TcpProxy:StatPrefix"] = "front_stats",
        ["Listeners:front:TcpProxy:IdleTimeout"] = idleTimeout,
        ["Listeners:front:TcpProxy:ConnectTimeout"] = "00:00:05",
        ["Clusters:backend:Destinations:d1:Address"] = backendAddress,
    };

    /// <summary>Socket listener <c>front</c> → envoy-internal://encap → internal TCP proxy listener <c>encap</c> → cluster <c>backend</c>.</summary>
    private static Dictionary<string, string?> ChainThroughInternalListener(string backendAddress, int? bufferSizeKb = null) => new()
    {
        ["Listeners:front:Address"] = "tcp://127.0.0.1:0",
        ["Listeners:front:TcpProxy:ClusterId"] = "encap_cluster",
        ["Listeners:front:TcpProxy:StatPrefix"] = "front_stats",
        ["Listeners:encap:Address"] = "envoy-internal://encap",
        ["Listeners:encap:BufferSizeKb"] = bufferSizeKb?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Listeners:encap:TcpProxy:ClusterId"] = "backend",
        ["Listeners:encap:TcpProxy:StatPrefix"] = "encap_stats",
        ["Clusters:encap_cluster:Destinations:encap:Address"] = "envoy-internal://encap",
        ["Clusters:backend:Destinations:d1:Address"] = backendAddress,
    };

    private static IConfigurationSection Config(string backendAddress, bool throughInternalListener) =>
        TunnelsTestHost.Section(throughInternalListener ? ChainThroughInternalListener(backendAddress, bufferSizeKb: 16) : SocketProxy(backendAddress));

    /// <summary>The TCP proxy that talks to the backend: <c>encap</c> in the chain, <c>front</c> otherwise.</summary>
    private static string BackendFacingPrefix(bool throughInternalListener) => throughInternalListener ? "encap_stats" : "front_stats";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Relay_ClientHalfClosesAfter5MiB_EchoFlowsBackByteExactThenEof(bool throughInternalListener)
    {
        var registry = new InternalListenerRegistry();
        await using var echo = TcpEchoServer.Start();
        await using var host = await TunnelsTestHost.StartAsync(Config(echo.Address, throughInternalListener), registry);
        var payload = RandomNumberGenerator.GetBytes(FiveMiB);

        // The echo server half-closes only after it read the client's half-close through the proxy: without
        // downstream→upstream half-close propagation the read below never ends.
        var echoed = await SocketIo.EchoThroughAsync(host.TcpProxyPort("front"), payload, TestHost.TimeoutToken());

        Bytes.AssertEqual(payload, echoed);
        var prefix = BackendFacingPrefix(throughInternalListener);
        await host.WaitForStatAsync("tcp.front_stats.downstream_cx_active", 0);
        await host.WaitForStatAsync($"tcp.{prefix}.downstream_cx_active", 0);
        var stats = host.Stats();
        foreach (var p in new[] { "front_stats", prefix })
        {
            Assert.Equal(1, stats[$"tcp.{p}.downstream_cx_total"]);
            Assert.Equal(FiveMiB, stats[$"tcp.{p}.downstream_cx_rx_bytes_total"]);
            Assert.Equal(FiveMiB, stats[$"tcp.{p}.downstream_cx_tx_bytes_total"]);
        }
        Assert.Equal(1, echo.Accepted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Relay_UpstreamHalfClosesAfterGreeting_ClientReadsEofAndCanStillSend(bool throughInternalListener)
    {
        var registry = new InternalListenerRegistry();
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = TcpEchoServer.Start(async (socket, ct) =>
        {
            try
            {
                await SocketIo.SendAllAsync(socket, "hello\n"u8.ToArray(), ct);
                socket.Shutdown(SocketShutdown.Send);
                received.TrySetResult(await SocketIo.ReadToEndAsync(socket, ct));
            }
            catch (Exception ex)
            {
                received.TrySetException(ex);
            }
        });
        await using var host = await TunnelsTestHost.StartAsync(Config(upstream.Address, throughInternalListener), registry);
        var token = TestHost.TimeoutToken();
        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("front"), token);

        var greeting = await SocketIo.ReadToEndAsync(client, token);
        Assert.Equal("hello\n"u8.ToArray(), greeting);

        // The downstream→upstream direction is still open after the upstream's half-close.
        var late = RandomNumberGenerator.GetBytes(256 * 1024);
        await SocketIo.SendAllAsync(client, late, token);
        client.Shutdown(SocketShutdown.Send);

        var upstreamGot = await received.Task.WaitAsync(TestHost.Timeout);
        Bytes.AssertEqual(late, upstreamGot);
        var prefix = BackendFacingPrefix(throughInternalListener);
        await host.WaitForStatAsync($"tcp.{prefix}.downstream_cx_active", 0);
        Assert.Equal(late.Length, host.Stats()[$"tcp.{prefix}.downstream_cx_rx_bytes_total"]);
        Assert.Equal(6, host.Stats()[$"tcp.{prefix}.downstream_cx_tx_bytes_total"]);
    }

    [Fact]
    public async Task Start_OnlyTcpProxyListeners_KestrelBindsNoDefaultSocket()
    {
        var registry = new InternalListenerRegistry();
        await using var echo = TcpEchoServer.Start();
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(SocketProxy(echo.Address)), registry);

        // The listeners are the host's whole socket surface, as in Envoy: Kestrel must not fall back to localhost:5000.
        var addresses = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Assert.DoesNotContain(addresses, a => a.Contains("localhost", StringComparison.Ordinal) || a.Contains("127.0.0.1", StringComparison.Ordinal)
            || a.Contains("[::", StringComparison.Ordinal) || a.Contains("0.0.0.0", StringComparison.Ordinal));
        var echoed = await SocketIo.EchoThroughAsync(host.TcpProxyPort("front"), "ping"u8.ToArray(), TestHost.TimeoutToken());
        Assert.Equal("ping"u8.ToArray(), echoed);
    }

    [Fact]
    public async Task Reload_TcpProxyOnlyHostGainsInternalHttpListener_ServesHttp()
    {
        var registry = new InternalListenerRegistry();
        await using var echo = TcpEchoServer.Start();
        var root = new ConfigurationBuilder()
            .AddInMemoryCollection(SocketProxy(echo.Address).Select(kv => KeyValuePair.Create("ReverseProxy:" + kv.Key, kv.Value)))
            .Build();
        await using var host = await TunnelsTestHost.StartAsync(root.GetSection("ReverseProxy"), registry,
            app => app.MapGet("/proto", (HttpContext c) => c.Request.Protocol));

        root["ReverseProxy:Listeners:svc:Address"] = "envoy-internal://svc";
        root.Reload();
        var deadline = Stopwatch.StartNew();
        while (!registry.Contains("svc"))
        {
            Assert.True(deadline.Elapsed < TestHost.Timeout, "the reload did not bind internal listener 'svc'");
            await Task.Delay(20);
        }

        var token = TestHost.TimeoutToken();
        await using var stream = registry.Connect("svc");
        await stream.WriteAsync("GET /proto HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n"u8.ToArray(), token);
        using var response = new MemoryStream();
        await stream.CopyToAsync(response, token);
        var text = System.Text.Encoding.ASCII.GetString(response.ToArray());
        Assert.StartsWith("HTTP/1.1 200 OK", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n8\r\nHTTP/1.1\r\n0\r\n\r\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connect_UpstreamRefuses_DownstreamClosedAndConnectFailCounted(bool throughInternalListener)
    {
        var registry = new InternalListenerRegistry();
        using var dead = FreePort.BindRefusing();
        await using var host = await TunnelsTestHost.StartAsync(Config($"tcp://127.0.0.1:{((IPEndPoint)dead.LocalEndPoint!).Port}", throughInternalListener), registry);

        await AssertEndedAsync(host.TcpProxyPort("front"));

        await host.WaitForStatAsync("cluster.backend.upstream_cx_connect_fail", 1);
        await host.WaitForStatAsync("tcp.front_stats.downstream_cx_active", 0);
        await host.WaitForStatAsync($"tcp.{BackendFacingPrefix(throughInternalListener)}.downstream_cx_active", 0);
        Assert.Equal(1, host.Stats()["tcp.front_stats.downstream_cx_total"]);
    }

    /// <summary>Connects (the proxy may reset before the connect completes) and waits until the proxy ends the connection.</summary>
    private static async Task AssertEndedAsync(int port, Socket? client = null)
    {
        var token = TestHost.TimeoutToken();
        try
        {
            using var owned = client is null ? await SocketIo.ConnectAsync(port, token) : null;
            var read = await (client ?? owned!).ReceiveAsync(new byte[16], SocketFlags.None, token);
            Assert.Equal(0, read);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }

    /// <summary>Waits for the next receive on <paramref name="socket"/> and returns how it ended: "eof", "data" or the socket error.</summary>
    private static async Task<string> NextReceiveAsync(Socket socket)
    {
        try
        {
            return await socket.ReceiveAsync(new byte[16], SocketFlags.None, TestHost.TimeoutToken()) == 0 ? "eof" : "data";
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode.ToString();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Relay_UpstreamResets_ClientSeesReset(bool throughInternalListener)
    {
        var registry = new InternalListenerRegistry();
        await using var upstream = TcpEchoServer.Start(static async (socket, ct) =>
        {
            await SocketIo.ReadExactlyAsync(socket, 1, ct);
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        });
        await using var host = await TunnelsTestHost.StartAsync(Config(upstream.Address, throughInternalListener), registry);
        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("front"), TestHost.TimeoutToken());
        var ended = NextReceiveAsync(client);

        await SocketIo.SendAllAsync(client, "x"u8.ToArray(), TestHost.TimeoutToken());

        // A reset is passed on as a reset, not as a clean end of stream, through every hop.
        Assert.Equal(nameof(SocketError.ConnectionReset), await ended);
        await host.WaitForStatAsync("tcp.front_stats.downstream_cx_active", 0);
    }

    [Fact]
    public async Task Connect_UpstreamNeverAnswers_ConnectTimeoutOnTheClockResetsClientAndCounts()
    {
        var time = new FakeTimeProvider();
        var registry = new InternalListenerRegistry();
        // A listener whose accept queue (backlog 0: one connection) is full: the kernel drops further SYNs, so a
        // connect to it neither completes nor fails until the proxy's connect timeout.
        using var full = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        full.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        full.Listen(0);
        using var queued = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await queued.ConnectAsync(full.LocalEndPoint!, TestHost.TimeoutToken());
        await using var host = await TunnelsTestHost.StartAsync(
            TunnelsTestHost.Section(SocketProxy($"tcp://127.0.0.1:{((IPEndPoint)full.LocalEndPoint!).Port}")), registry,
            services: s => s.AddSingleton<TimeProvider>(time));
        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("front"), TestHost.TimeoutToken());
        await host.WaitForStatAsync("cluster.backend.upstream_cx_total", 1);
        var ended = NextReceiveAsync(client);

        // The 5 s timeout runs on the fake clock; advance it until the proxy gave up (it arms the timeout as it starts).
        for (var i = 0; i < 500 && host.Stats().GetValueOrDefault("cluster.backend.upstream_cx_connect_timeout") == 0; i++)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(10);
        }

        Assert.Contains(await ended, new[] { "eof", nameof(SocketError.ConnectionReset) });
        var stats = host.Stats();
        Assert.Equal(1, stats["cluster.backend.upstream_cx_connect_timeout"]);
        Assert.Equal(1, stats["cluster.backend.upstream_cx_connect_fail"]);
        await host.WaitForStatAsync("tcp.front_stats.downstream_cx_active", 0);
    }

    [Fact]
    public async Task Pick_RoundRobinClusterOfThree_EachDestinationGetsItsShare()
    {
        var registry = new InternalListenerRegistry();
        await using var b1 = TcpEchoServer.Start();
        await using var b2 = TcpEchoServer.Start();
        await using var b3 = TcpEchoServer.Start();
        var config = SocketProxy(b1.Address);
        config["Clusters:backend:LoadBalancingPolicy"] = "RoundRobin";
        config["Clusters:backend:Destinations:d2:Address"] = b2.Address;
        config["Clusters:backend:Destinations:d3:Address"] = b3.Address;
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(config), registry);

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("ping"u8.ToArray(), await SocketIo.EchoThroughAsync(host.TcpProxyPort("front"), "ping"u8.ToArray(), TestHost.TimeoutToken()));
        }

        Assert.Equal([2, 2, 2], new[] { b1.Accepted, b2.Accepted, b3.Accepted });
        Assert.Equal(6, host.Stats()["cluster.backend.upstream_cx_total"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StopAsync_LiveTcpConnections_HostStopsAndBothEndsEnd(bool throughInternalListener)
    {
        var registry = new InternalListenerRegistry();
        var backendEnded = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = TcpEchoServer.Start(async (socket, ct) =>
        {
            await SocketIo.SendAllAsync(socket, await SocketIo.ReadExactlyAsync(socket, 1, ct), ct);
            backendEnded.TrySetResult(await NextReceiveAsync(socket));
        });
        var host = await TunnelsTestHost.StartAsync(Config(upstream.Address, throughInternalListener), registry);
        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("front"), TestHost.TimeoutToken());
        await SocketIo.SendAllAsync(client, "x"u8.ToArray(), TestHost.TimeoutToken());
        Assert.Equal("x"u8.ToArray(), await SocketIo.ReadExactlyAsync(client, 1, TestHost.TimeoutToken()));

        await host.StopAsync(TestHost.TimeoutToken()).WaitAsync(TestHost.Timeout);
        await host.DisposeAsync();

        Assert.Equal(nameof(SocketError.ConnectionReset), await NextReceiveAsync(client));
        Assert.Equal(nameof(SocketError.ConnectionReset), await backendEnded.Task.WaitAsync(TestHost.Timeout));
    }

    [Fact]
    public async Task Reload_InternalTcpProxyListenerReplacedWithLiveConnection_DrainTimeoutResetsBothEndsOfTwoHops()
    {
        var registry = new InternalListenerRegistry();
        var backendEnded = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var connections = 0;
        await using var upstream = TcpEchoServer.Start(async (socket, ct) =>
        {
            if (Interlocked.Increment(ref connections) > 1)
            {
                await TcpEchoServer.EchoAsync(socket, ct);
                return;
            }
            await SocketIo.SendAllAsync(socket, await SocketIo.ReadExactlyAsync(socket, 1, ct), ct);
            backendEnded.TrySetResult(await NextReceiveAsync(socket));
        });
        var values = ChainThroughInternalListener(upstream.Address);
        values["Listeners:encap:DrainTimeout"] = "00:00:01";
        var root = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(kv => KeyValuePair.Create("ReverseProxy:" + kv.Key, kv.Value)))
            .Build();
        await using var host = await TunnelsTestHost.StartAsync(root.GetSection("ReverseProxy"), registry);
        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("front"), TestHost.TimeoutToken());
        await SocketIo.SendAllAsync(client, "x"u8.ToArray(), TestHost.TimeoutToken());
        Assert.Equal("x"u8.ToArray(), await SocketIo.ReadExactlyAsync(client, 1, TestHost.TimeoutToken()));
        var clientEnded = NextReceiveAsync(client);

        // Changing the internal listener replaces it: the old one drains its live connection for DrainTimeout, then resets it.
        root["ReverseProxy:Listeners:encap:TcpProxy:IdleTimeout"] = "00:30:00";
        root.Reload();

        // The reset reaches the client (through the socket hop) and the backend (through the internal hop) as a reset,
        // not as an end of stream that would leave either waiting for its idle timeout.
        Assert.Equal(nameof(SocketError.ConnectionReset), await clientEnded.WaitAsync(TestHost.Timeout));
        Assert.Equal(nameof(SocketError.ConnectionReset), await backendEnded.Task.WaitAsync(TestHost.Timeout));
        await host.WaitForStatAsync("tcp.encap_stats.downstream_cx_active", 0);
        await host.WaitForStatAsync("tcp.front_stats.downstream_cx_active", 0);
        // The replacement serves new connections.
        Assert.Equal("ping"u8.ToArray(), await SocketIo.EchoThroughAsync(host.TcpProxyPort("front"), "ping"u8.ToArray(), TestHost.TimeoutToken()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Relay_ClientResets_UpstreamIsReset(bool throughInternalListener)
    {
        var registry = new InternalListenerRegistry();
        var ended = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstBytes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = TcpEchoServer.Start(async (socket, ct) =>
        {
            var buffer = new byte[1024];
            try
            {
                while (await socket.ReceiveAsync(buffer, SocketFlags.None, ct) > 0)
                {
                    firstBytes.TrySetResult();
                }
                ended.TrySetResult("eof");
            }
            catch (SocketException ex)
            {
                ended.TrySetResult(ex.SocketErrorCode.ToString());
            }
        });
        await using var host = await TunnelsTestHost.StartAsync(Config(upstream.Address, throughInternalListener), registry);
        using var client = await SocketIo.ConnectAsync(host.TcpProxyPort("front"), TestHost.TimeoutToken());
        await SocketIo.SendAllAsync(client, "data"u8.ToArray(), TestHost.TimeoutToken());
        await firstBytes.Task.WaitAsync(TestHost.Timeout);

        client.LingerState = new LingerOption(true, 0);
        client.Dispose();

        // A reset is passed on as a reset, not as a clean end of stream.
        Assert.Equal(nameof(SocketError.ConnectionReset), await ended.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await host.WaitForStatAsync("tcp.front_stats.downstream_cx_active", 0);
        await host.WaitForStatAsync($"tcp.{BackendFacingPrefix(throughInternalListener)}.downstream_cx_active", 0);
    }

    [Fact]
    public async Task IdleTimeout_FakeClockPastTimeout_ClosesIdleConnectionButNotBusyOne()
    {
        var time = new FakeTimeProvider();
        var registry = new InternalListenerRegistry();
        await using var echo = TcpEchoServer.Start();
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(SocketProxy(echo.Address, idleTimeout: "01:00:00")), registry,
            services: s => s.AddSingleton<TimeProvider>(time));
        var port = host.TcpProxyPort("front");
        var token = TestHost.TimeoutToken();
        using var idle = await SocketIo.ConnectAsync(port, token);
        using var busy = await SocketIo.ConnectAsync(port, token);
        async Task PingAsync(Socket client)
        {
            await SocketIo.SendAllAsync(client, "x"u8.ToArray(), token);
            Assert.Equal("x"u8.ToArray(), await SocketIo.ReadExactlyAsync(client, 1, token));
        }
        // Both relays run (and armed their idle timers) once a byte went through each.
        await PingAsync(idle);
        await PingAsync(busy);
        var idleEnded = NextReceiveAsync(idle);

        time.Advance(TimeSpan.FromMinutes(40));
        await PingAsync(busy);
        time.Advance(TimeSpan.FromMinutes(30));

        // 70 minutes without a byte: reset. 30 minutes: still open, and a clean half-close round trip shows it.
        Assert.Equal(nameof(SocketError.ConnectionReset), await idleEnded.WaitAsync(TestHost.Timeout));
        await PingAsync(busy);
        busy.Shutdown(SocketShutdown.Send);
        Assert.Empty(await SocketIo.ReadToEndAsync(busy, token));
        await host.WaitForStatAsync("tcp.front_stats.downstream_cx_active", 0);
        var stats = host.Stats();
        Assert.Equal(1, stats["tcp.front_stats.idle_timeout"]);
        Assert.Equal(2, stats["tcp.front_stats.downstream_cx_total"]);
    }

    [Fact]
    public async Task Relay_1000ConcurrentConnectionsThroughInternalListener_ByteExactAndGaugesReturnToZero()
    {
        const int connections = 1000;
        var registry = new InternalListenerRegistry();
        await using var echo = TcpEchoServer.Start();
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(ChainThroughInternalListener(echo.Address)), registry);
        var port = host.TcpProxyPort("front");
        var token = TestHost.TimeoutToken();

        var clients = Enumerable.Range(0, connections).Select(i => Task.Run(async () =>
        {
            // Distinct data per connection: its index, then random bytes of a length that varies with the index.
            var payload = new byte[4 + 1024 + (i * 37 % 8192)];
            BitConverter.TryWriteBytes(payload, i);
            RandomNumberGenerator.Fill(payload.AsSpan(4));
            var echoed = await SocketIo.EchoThroughAsync(port, payload, token);
            Bytes.AssertEqual(payload, echoed, $"connection {i}");
        }));
        await Task.WhenAll(clients).WaitAsync(TestHost.Timeout);

        foreach (var gauge in new[]
        {
            "listener.front.downstream_cx_active",
            "listener.envoy_internal_encap.downstream_cx_active",
            "tcp.front_stats.downstream_cx_active",
            "tcp.encap_stats.downstream_cx_active",
            "cluster.encap_cluster.upstream_cx_active",
            "cluster.backend.upstream_cx_active",
        })
        {
            await host.WaitForStatAsync(gauge, 0);
        }
        var stats = host.Stats();
        Assert.Equal(connections, stats["listener.front.downstream_cx_total"]);
        Assert.Equal(connections, stats["listener.envoy_internal_encap.downstream_cx_total"]);
        Assert.Equal(connections, stats["tcp.front_stats.downstream_cx_total"]);
        Assert.Equal(connections, stats["tcp.encap_stats.downstream_cx_total"]);
        Assert.Equal(connections, echo.Accepted);
    }

    [Fact]
    public async Task Relay_SocatClientPipesFile_ByteExact()
    {
        var socat = ToolProcess.Require("socat");
        var registry = new InternalListenerRegistry();
        await using var echo = TcpEchoServer.Start();
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(SocketProxy(echo.Address)), registry);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(2 * 1024 * 1024));
            var input = await File.ReadAllBytesAsync(file);

            var result = await ToolProcess.RunAsync(socat, ["-t", "5", "-", $"TCP:127.0.0.1:{host.TcpProxyPort("front")}"], input);

            Assert.True(result.ExitCode == 0, result.Stderr);
            Bytes.AssertEqual(input, result.Stdout);
            Assert.Equal(1, echo.Accepted);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
