using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Tunneling;

namespace Yarp.Tunnels.FunctionalTests.Tunneling;

/// <summary>What the tunnelling connector does around the opener: load balancing and health, TLS to the proxy, propagated response state.</summary>
public class TunnelingConnectorTests
{
    private const string Python = "/usr/bin/python3";

    private static Task<JsonLinePeer> StartPythonProxyAsync() =>
        JsonLinePeer.StartAsync(Python, Path.Combine(RepoPaths.Interop, "python", "h1_connect_proxy.py"));

    [Fact]
    public async Task LeastRequests_OpenTunnelCountsOnItsProxy_NextTunnelGoesToTheOther()
    {
        await using var echo = TcpEchoServer.Start();
        using var proxyA = await StartPythonProxyAsync();
        using var proxyB = await StartPythonProxyAsync();
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:l1:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:l1:TcpProxy:ClusterId"] = "proxies",
            ["Listeners:l1:TcpProxy:Tunneling:Hostname"] = $"127.0.0.1:{echo.Port}",
            ["Clusters:proxies:LoadBalancingPolicy"] = "LeastRequests",
            ["Clusters:proxies:Destinations:a:Address"] = $"tcp://127.0.0.1:{proxyA.Port}",
            ["Clusters:proxies:Destinations:b:Address"] = $"tcp://127.0.0.1:{proxyB.Port}",
        }), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();
        var port = host.TcpProxyPort("l1");

        // Two tunnels held open at once: with both idle, LeastRequests picks either; the second must see the first.
        using var first = await OpenEchoingAsync(port, token);
        using var second = await OpenEchoingAsync(port, token);

        Assert.Single(proxyA.Lines("method"));
        Assert.Single(proxyB.Lines("method"));
        var destinations = Cluster(host, "proxies").Destinations.Values;
        Assert.All(destinations, d => Assert.Equal(1, d.ConcurrentRequestCount));

        first.Dispose();
        second.Dispose();
        await WaitUntilAsync(() => destinations.All(d => d.ConcurrentRequestCount == 0), "the counts return to 0 when the tunnels close");
    }

    [Fact]
    public async Task PassiveHealth_ProxyThatRefuses_MarkedUnhealthyAndTunnelsGoElsewhere()
    {
        await using var echo = TcpEchoServer.Start();
        using var good = await StartPythonProxyAsync();
        using var refusing = FreePort.BindRefusing();
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:l1:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:l1:TcpProxy:ClusterId"] = "proxies",
            ["Listeners:l1:TcpProxy:Tunneling:Hostname"] = $"127.0.0.1:{echo.Port}",
            ["Clusters:proxies:LoadBalancingPolicy"] = "RoundRobin",
            ["Clusters:proxies:HealthCheck:Passive:Enabled"] = "true",
            ["Clusters:proxies:HealthCheck:Passive:Policy"] = "TransportFailureRate",
            ["Clusters:proxies:HealthCheck:Passive:ReactivationPeriod"] = "00:10:00",
            ["Clusters:proxies:Destinations:bad:Address"] = $"tcp://127.0.0.1:{((IPEndPoint)refusing.LocalEndPoint!).Port}",
            ["Clusters:proxies:Destinations:good:Address"] = $"tcp://127.0.0.1:{good.Port}",
        }), new InternalListenerRegistry(), services: s => s.Configure<TransportFailureRateHealthPolicyOptions>(o => o.MinimalTotalCountThreshold = 2));
        var token = TestHost.TimeoutToken();
        var port = host.TcpProxyPort("l1");
        var bad = Cluster(host, "proxies").Destinations["bad"];

        // Round robin alternates until the refusing proxy's failures mark it unhealthy; then every tunnel succeeds.
        for (var i = 0; i < 8 && bad.Health.Passive != DestinationHealth.Unhealthy; i++)
        {
            // A tunnel through the refusing proxy fails at once, and its reset may reach the client's connect first.
            using var client = await SocketIo.ConnectUnlessResetAsync(port, token);
            if (client is null)
            {
                continue;
            }
            try
            {
                await SocketIo.SendAllAsync(client, "x"u8.ToArray(), token);
                await SocketIo.ReadExactlyAsync(client, 1, token);
            }
            catch (Exception ex) when (ex is EndOfStreamException or SocketException)
            {
                // The tunnel through the refusing proxy failed: that is what the health policy counts.
            }
        }
        await WaitUntilAsync(() => bad.Health.Passive == DestinationHealth.Unhealthy, "the refusing proxy is marked unhealthy");

        for (var i = 0; i < 4; i++)
        {
            using var client = await OpenEchoingAsync(port, token);
        }
        Assert.True(host.Stats()["tcp.l1.tunnel_fail_connect"] >= 1);
    }

    [Fact]
    public async Task HttpsProxy_TlsToTheProxy_TunnelWorksAndUntrustedCertificateRefused()
    {
        var socat = ToolProcess.Require("socat");
        await using var echo = TcpEchoServer.Start();
        using var proxy = await StartPythonProxyAsync();
        using var certificate = TestCertificates.CreateSelfSigned();
        var pem = Path.Combine(Path.GetTempPath(), $"yarp-tunnels-proxy-{Guid.NewGuid():N}.pem");
        File.WriteAllText(pem, certificate.ExportCertificatePem() + "\n" + certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
        try
        {
            var tlsPort = FreePort.Get();
            // socat (no one here wrote it) terminates TLS in front of the plain CONNECT proxy.
            using var tls = ToolProcess.StartBackground(socat, [$"OPENSSL-LISTEN:{tlsPort},bind=127.0.0.1,reuseaddr,fork,cert={pem},verify=0", $"TCP:127.0.0.1:{proxy.Port}"]);
            await FreePort.WaitAsync(tlsPort);
            var config = new Dictionary<string, string?>
            {
                ["Listeners:trusting:Address"] = "tcp://127.0.0.1:0",
                ["Listeners:trusting:TcpProxy:ClusterId"] = "tls_proxy",
                ["Listeners:trusting:TcpProxy:Tunneling:Hostname"] = $"127.0.0.1:{echo.Port}",
                ["Listeners:validating:Address"] = "tcp://127.0.0.1:0",
                ["Listeners:validating:TcpProxy:ClusterId"] = "tls_proxy_validated",
                ["Listeners:validating:TcpProxy:Tunneling:Hostname"] = $"127.0.0.1:{echo.Port}",
                ["Clusters:tls_proxy:HttpClient:DangerousAcceptAnyServerCertificate"] = "true",
                ["Clusters:tls_proxy:Destinations:d:Address"] = $"https://127.0.0.1:{tlsPort}",
                ["Clusters:tls_proxy_validated:Destinations:d:Address"] = $"https://127.0.0.1:{tlsPort}",
            };
            await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(config), new InternalListenerRegistry());
            var token = TestHost.TimeoutToken();
            var payload = RandomNumberGenerator.GetBytes(512 * 1024);

            // Half-close through TLS: close_notify, then FIN, and the echo still comes back.
            var echoed = await SocketIo.EchoThroughAsync(host.TcpProxyPort("trusting"), payload, token);
            Bytes.AssertEqual(payload, echoed);

            // The failing tunnel may reset the connection before the client's connect completes (null).
            using (var client = await SocketIo.ConnectUnlessResetAsync(host.TcpProxyPort("validating"), token))
            {
                try
                {
                    Assert.Equal(0, client is null ? 0 : await client.ReceiveAsync(new byte[16], SocketFlags.None, token));
                }
                catch (SocketException)
                {
                }
            }
            await host.WaitForStatAsync("tcp.validating.tunnel_fail_connect", 1);
        }
        finally
        {
            File.Delete(pem);
        }
    }

    [Fact]
    public async Task PropagateResponseHeadersAndTrailers_NodePost_StoredInDownstreamConnectionItems()
    {
        var node = ToolProcess.Require("node");
        using var server = await JsonLinePeer.StartAsync(node, Path.Combine(RepoPaths.Interop, "node", "post-echo-server.js"));
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Clusters:post:Destinations:d:Address"] = $"tcp://127.0.0.1:{server.Port}",
        }), new InternalListenerRegistry());
        var handler = new TcpProxyHandler("inner", new TcpProxyConfig
        {
            ClusterId = "post",
            Tunneling = new TunnelingConfig { Hostname = "tunnel.example:443", UsePost = true, PropagateResponseHeaders = true, PropagateResponseTrailers = true },
        }, host.Services.GetRequiredService<TcpProxyServices>());
        var acceptor = new CapturingAcceptor(new TcpProxyAcceptor(handler));
        var registration = new InternalListenerRegistration("inner", 64, acceptor, host.Services.GetRequiredService<TunnelMetrics>().Listener("inner"));
        var token = TestHost.TimeoutToken();

        await using var client = registration.Connect(null);
        var connection = await acceptor.Accepted.Task.WaitAsync(token);
        await client.WriteAsync("hello"u8.ToArray(), token);
        var echoed = new byte[5];
        await client.ReadExactlyAsync(echoed, token);
        Assert.Equal("hello"u8.ToArray(), echoed);
        var headers = Fields(connection, TunnelingConnector.ResponseHeadersKey);
        Assert.Contains(new KeyValuePair<string, string>("x-tunnel", "node"), headers);

        client.CompleteWrites();
        Assert.Equal(0, await client.ReadAsync(new byte[1], token));
        await WaitUntilAsync(() => connection.Items.ContainsKey(TunnelingConnector.ResponseTrailersKey), "the trailers are stored");
        Assert.Contains(new KeyValuePair<string, string>("x-tunnel-end", "done"), Fields(connection, TunnelingConnector.ResponseTrailersKey));
    }

    [Fact]
    public async Task PayloadTls_PlaintextClient_TargetSeesTlsInsideTheTunnelAndUntrustedTargetRefused()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var origin = await TestHost.StartAsync(
            b => b.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate))),
            app => app.MapGet("/", (HttpContext context) => $"hello over {context.Request.Scheme}"));
        using var proxy = await JsonLinePeer.StartAsync(Python, Path.Combine(RepoPaths.Interop, "python", "h1_connect_proxy.py"),
            "--target", $"127.0.0.1:{TestHost.Address(origin).Port}");
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:accepting:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:accepting:TcpProxy:ClusterId"] = "proxy",
            ["Listeners:accepting:TcpProxy:Tunneling:Hostname"] = "origin.example:443",
            ["Listeners:accepting:TcpProxy:Tunneling:PayloadTls:AcceptAnyServerCertificate"] = "true",
            ["Listeners:validating:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:validating:TcpProxy:ClusterId"] = "proxy",
            ["Listeners:validating:TcpProxy:Tunneling:Hostname"] = "origin.example:443",
            ["Listeners:validating:TcpProxy:Tunneling:PayloadTls:ServerName"] = "localhost",
            ["Clusters:proxy:Destinations:d:Address"] = $"tcp://127.0.0.1:{proxy.Port}",
        }), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();

        using (var client = await SocketIo.ConnectAsync(host.TcpProxyPort("accepting"), token))
        {
            await SocketIo.SendAllAsync(client, "GET / HTTP/1.1\r\nHost: origin.example\r\nConnection: close\r\n\r\n"u8.ToArray(), token);
            var response = System.Text.Encoding.ASCII.GetString(await SocketIo.ReadToEndAsync(client, token));
            Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
            Assert.Contains("\r\nhello over https\r\n", response, StringComparison.Ordinal);
        }

        // The failing tunnel may reset the connection before the client's connect completes (null).
        using (var client = await SocketIo.ConnectUnlessResetAsync(host.TcpProxyPort("validating"), token))
        {
            try
            {
                Assert.Equal(0, client is null ? 0 : await client.ReceiveAsync(new byte[16], SocketFlags.None, token));
            }
            catch (SocketException)
            {
            }
        }
        await host.WaitForStatAsync("tcp.validating.tunnel_fail_connect", 1);
    }

    [Fact]
    public async Task Activity_OneTunnel_TaggedWithOutcomeAuthorityAndBytes()
    {
        await using var echo = TcpEchoServer.Start();
        using var proxy = await StartPythonProxyAsync();
        var proxyAddress = $"tcp://127.0.0.1:{proxy.Port}";
        var stopped = new TaskCompletionSource<System.Diagnostics.Activity>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == TunnelsActivitySource.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("tunnel.proxy") as string == proxyAddress)
                {
                    stopped.TrySetResult(activity);
                }
            },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var host = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:l1:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:l1:TcpProxy:ClusterId"] = "proxy",
            ["Listeners:l1:TcpProxy:Tunneling:Hostname"] = $"127.0.0.1:{echo.Port}",
            ["Clusters:proxy:Destinations:d:Address"] = proxyAddress,
        }), new InternalListenerRegistry());
        var token = TestHost.TimeoutToken();

        using (var client = await SocketIo.ConnectAsync(host.TcpProxyPort("l1"), token))
        {
            var reading = SocketIo.ReadToEndAsync(client, token);
            await SocketIo.SendAllAsync(client, new byte[1000], token);
            client.Shutdown(SocketShutdown.Send);
            await reading;
        }
        var activity = await stopped.Task.WaitAsync(token);

        Assert.Equal("tcp_proxy.tunnel", activity.OperationName);
        Assert.Equal(true, activity.GetTagItem("tunnel.established"));
        Assert.Equal("closed", activity.GetTagItem("tunnel.outcome"));
        Assert.Equal($"127.0.0.1:{echo.Port}", activity.GetTagItem("tunnel.authority"));
        Assert.Equal(1000L, activity.GetTagItem("tunnel.downstream_rx_bytes"));
        Assert.Equal(1000L, activity.GetTagItem("tunnel.upstream_rx_bytes"));
        Assert.Contains(activity.Events, e => e.Name == "established");
    }

    private static IReadOnlyList<KeyValuePair<string, string>> Fields(ConnectionContext connection, string key)
    {
        var state = Assert.IsType<SharedState>(connection.Items[key]);
        Assert.Equal(StateSharing.Once, state.Sharing);
        return Assert.IsAssignableFrom<IReadOnlyList<KeyValuePair<string, string>>>(state.Value);
    }

    private static ClusterState Cluster(WebApplication host, string id)
    {
        Assert.True(host.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster(id, out var cluster));
        return cluster;
    }

    /// <summary>Opens a tunnel through <paramref name="port"/> and waits for one byte echoed through it (so it is established).</summary>
    private static async Task<Socket> OpenEchoingAsync(int port, CancellationToken token)
    {
        var client = await SocketIo.ConnectAsync(port, token);
        await SocketIo.SendAllAsync(client, "x"u8.ToArray(), token);
        await SocketIo.ReadExactlyAsync(client, 1, token);
        return client;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(20);
        }
    }

    private sealed class CapturingAcceptor(IInternalConnectionAcceptor inner) : IInternalConnectionAcceptor
    {
        public TaskCompletionSource<ConnectionContext> Accepted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool TryAccept(ConnectionContext connection)
        {
            Accepted.TrySetResult(connection);
            return inner.TryAccept(connection);
        }
    }
}
