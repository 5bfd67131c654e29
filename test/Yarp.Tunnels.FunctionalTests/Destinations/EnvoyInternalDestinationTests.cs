using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.FunctionalTests.Destinations;

public class EnvoyInternalDestinationTests
{
    private static async Task<(WebApplication Backend, WebApplication Front)> StartPairAsync(
        InternalListenerRegistry registry, HttpProtocols backendProtocols, ClusterConfig cluster, int bufferSizeKb = 1)
    {
        var backend = await TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal("backend", bufferSizeKb, o => o.Protocols = backendProtocols));
        }, BackendApp.Map);
        var front = await TestHost.StartAsync(b =>
        {
            b.ListenLoopback();
            b.Services.AddReverseProxy()
                .LoadFromMemory([ProxyConfigs.CatchAll(cluster.ClusterId)], [cluster])
                .AddInternalListenerDestinations(registry);
        }, app => app.MapReverseProxy());
        return (backend, front);
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task Forward_GetAndPost10MiBWith1KiBBuffers_ByteExact(string version)
    {
        var registry = new InternalListenerRegistry();
        var http2 = version == "2.0";
        var (backend, front) = await StartPairAsync(registry, http2 ? HttpProtocols.Http2 : HttpProtocols.Http1,
            ProxyConfigs.Single("backend", "envoy-internal://backend", http2 ? ProxyConfigs.Http2 : ProxyConfigs.Http11));
        await using var _ = backend;
        await using var __ = front;
        using var client = new HttpClient { BaseAddress = TestHost.Address(front), Timeout = TestHost.Timeout };

        var hello = await client.GetStringAsync("/hello");
        Assert.Equal($"hello HTTP/{(http2 ? "2" : "1.1")} host=backend", hello);

        var payload = RandomNumberGenerator.GetBytes(Payload.TenMiB);
        using var upload = await client.PostAsync("/sha256", new ByteArrayContent(payload));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        Assert.Equal($"{payload.Length}:{Convert.ToHexString(SHA256.HashData(payload))}", await upload.Content.ReadAsStringAsync());

        var downloaded = await client.GetByteArrayAsync($"/download/{Payload.TenMiB}");
        Assert.Equal(Payload.Expected(Payload.TenMiB), downloaded);
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task Forward_WebSocketFromHttp11Client_Echoes(string backendVersion)
    {
        var registry = new InternalListenerRegistry();
        var http2 = backendVersion == "2.0";
        var (backend, front) = await StartPairAsync(registry, http2 ? HttpProtocols.Http2 : HttpProtocols.Http1,
            ProxyConfigs.Single("backend", "envoy-internal://backend", http2 ? ProxyConfigs.Http2 : ProxyConfigs.Http11));
        await using var _ = backend;
        await using var __ = front;

        using var socket = new ClientWebSocket();
        var uri = new UriBuilder(TestHost.Address(front)) { Scheme = "ws", Path = "/ws" }.Uri;
        await socket.ConnectAsync(uri, TestHost.TimeoutToken());
        await socket.SendAsync(Encoding.UTF8.GetBytes("hi"), WebSocketMessageType.Text, true, TestHost.TimeoutToken());
        var buffer = new byte[1024];
        var result = await socket.ReceiveAsync(buffer, TestHost.TimeoutToken());
        Assert.Equal($"{(http2 ? "HTTP/2" : "HTTP/1.1")}:hi", Encoding.UTF8.GetString(buffer, 0, result.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", TestHost.TimeoutToken());
    }

    [Fact]
    public async Task Forward_MissingListener_Returns503WithProxyStatus()
    {
        var registry = new InternalListenerRegistry();
        await using var front = await TestHost.StartAsync(b =>
        {
            b.ListenLoopback();
            b.Services.AddReverseProxy()
                .LoadFromMemory([ProxyConfigs.CatchAll()], [ProxyConfigs.Single("backend", "envoy-internal://nobody")])
                .AddInternalListenerDestinations(registry);
        }, app => app.MapReverseProxy());
        using var client = new HttpClient { BaseAddress = TestHost.Address(front), Timeout = TimeSpan.FromSeconds(10) };

        var started = System.Diagnostics.Stopwatch.StartNew();
        using var response = await client.GetAsync("/hello");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("internal listener 'nobody' is not bound", string.Join(",", response.Headers.GetValues("Proxy-Status")));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task Forward_ListenerBacklogFull_Returns503SayingBusyNotUnbound()
    {
        var registry = new InternalListenerRegistry();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        // Bound, but nothing accepts its connections: the backlog fills up.
        var transport = new InternalTransportFactory(registry, new TunnelMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        var listener = await transport.BindAsync(new InternalEndPoint("busy"));
        var queued = new List<InternalStream>();
        try
        {
            while (queued.Count < 4096)
            {
                queued.Add(registry.Connect("busy"));
            }
            await using var front = await TestHost.StartAsync(b =>
            {
                b.ListenLoopback();
                b.Services.AddReverseProxy()
                    .LoadFromMemory([ProxyConfigs.CatchAll()], [ProxyConfigs.Single("backend", "envoy-internal://busy")])
                    .AddInternalListenerDestinations(registry);
            }, app => app.MapReverseProxy());
            using var client = new HttpClient { BaseAddress = TestHost.Address(front), Timeout = TestHost.Timeout };

            using var response = await client.GetAsync("/hello");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var proxyStatus = string.Join(",", response.Headers.GetValues("Proxy-Status"));
            Assert.Contains("error=connection_limit_reached", proxyStatus, StringComparison.Ordinal);
            Assert.Contains("internal listener 'busy' is busy: its backlog of 4096 connections waiting to be accepted is full", proxyStatus, StringComparison.Ordinal);
        }
        finally
        {
            queued.ForEach(q => q.Dispose());
            await listener.UnbindAsync();
        }
    }
}
