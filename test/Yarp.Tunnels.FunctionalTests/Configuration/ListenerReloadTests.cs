using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Configuration;

/// <summary>Live reloads of <c>ReverseProxy:Listeners</c> from a JSON file, as an app's appsettings.json.</summary>
public class ListenerReloadTests
{
    private static string Json(string listeners, string clusters = "") => $$"""
        { "ReverseProxy": { "Listeners": { {{listeners}} }, "Clusters": { {{clusters}} } } }
        """;

    [Fact]
    public async Task Reload_ListenerAndItsClusterAddedInOneEdit_AppliedEveryTime()
    {
        await using var echo = TcpEchoServer.Start();
        await using var host = await JsonConfigHost.StartAsync(Json("""
            "web": { "Address": "tcp://127.0.0.1:0" }
            """));
        var proxyState = host.App.Services.GetRequiredService<IProxyStateLookup>();

        for (var i = 0; i < 4; i++)
        {
            // A TCP proxy listener using a new cluster, and a new cluster using a new internal listener: whichever change
            // callback runs first (ours or YARP's), each side must validate against the same, new, file.
            await host.WriteAsync(Json(
                $$"""
                "web": { "Address": "tcp://127.0.0.1:0" },
                "t{{i}}": { "Address": "tcp://127.0.0.1:0", "TcpProxy": { "ClusterId": "echo{{i}}" } },
                "in{{i}}": { "Address": "envoy-internal://in{{i}}" }
                """,
                $$"""
                "echo{{i}}": { "Destinations": { "d": { "Address": "{{echo.Address}}" } } },
                "via{{i}}": { "Destinations": { "d": { "Address": "envoy-internal://in{{i}}" } } }
                """));

            await host.App.WaitForListenerAsync($"t{i}");
            await host.App.WaitForListenerAsync($"in{i}");
            await WaitUntilAsync(() => proxyState.TryGetCluster($"via{i}", out _), $"cluster via{i} applied by YARP; errors: {string.Join(" | ", host.Errors.Messages)}");
            using var socket = await SocketIo.ConnectAsync(host.App.ListenerPort($"t{i}"), TestHost.TimeoutToken());
            await SocketIo.SendAllAsync(socket, "ping"u8.ToArray(), TestHost.TimeoutToken());
            Assert.Equal("ping"u8.ToArray(), await SocketIo.ReadExactlyAsync(socket, 4, TestHost.TimeoutToken()));
        }
        Assert.Empty(host.Errors.Messages);
    }

    [Fact]
    public async Task Reload_HostStartedWithoutListenersGainsHttpListeners_BothServe()
    {
        await using var host = await JsonConfigHost.StartAsync(Json(""), b => b.WebHost.UseUrls("http://127.0.0.1:0"));
        // Without listeners, Kestrel's own endpoints (here --urls) apply.
        using var client = new HttpClient { Timeout = TestHost.Timeout };
        Assert.Equal("none|HTTP/1.1", await client.GetStringAsync(new Uri(TestHost.Address(host.App), "/who")));

        await host.WriteAsync(Json("""
            "web": { "Address": "tcp://127.0.0.1:0", "Protocols": "Auto" },
            "inner": { "Address": "envoy-internal://inner", "Protocols": "Http2" }
            """));
        await host.App.WaitForListenerAsync("web");
        await host.App.WaitForListenerAsync("inner");

        var web = $"http://127.0.0.1:{host.App.ListenerPort("web")}/who";
        Assert.Equal("web|web|HTTP/1.1", await client.GetStringAsync(web));
        Assert.Equal("web|web|HTTP/2", await GetHttp2Async(client, web));
        using var internalClient = InternalClient(host.Registry, "inner");
        Assert.Equal("inner|inner|HTTP/2", await GetHttp2Async(internalClient, "http://inner/who"));
    }

    [Fact]
    public async Task Reload_PortSwitchedFromHttpToTcpProxy_TcpProxyServes()
    {
        await using var echo = TcpEchoServer.Start();
        var clusters = $$"""
            "echo": { "Destinations": { "d": { "Address": "{{echo.Address}}" } } }
            """;
        await using var host = await JsonConfigHost.StartAsync(Json("""
            "p": { "Address": "tcp://127.0.0.1:0" }
            """, clusters));
        var port = host.App.ListenerPort("p");
        using var client = new HttpClient { Timeout = TestHost.Timeout };
        Assert.Equal("p|p|HTTP/1.1", await client.GetStringAsync($"http://127.0.0.1:{port}/who"));

        await host.WriteAsync(Json($$"""
            "p": { "Address": "tcp://127.0.0.1:{{port}}", "TcpProxy": { "ClusterId": "echo" } }
            """, clusters));

        await WaitUntilAsync(() => host.App.Services.GetRequiredService<IListenerStateProvider>().GetListeners()
            .Any(l => l.Name == "p" && l.State == ListenerState.Bound && l.Address.StartsWith("tcp://127.0.0.1:" + port, StringComparison.Ordinal)), "p rebound as a TCP proxy");
        var status = await host.App.WaitForListenerAsync("p");
        Assert.Equal(port, ((IPEndPoint)status.BoundEndPoints.Single()).Port);
        using var socket = await SocketIo.ConnectAsync(port, TestHost.TimeoutToken());
        await SocketIo.SendAllAsync(socket, "raw bytes"u8.ToArray(), TestHost.TimeoutToken());
        Assert.Equal("raw bytes"u8.ToArray(), await SocketIo.ReadExactlyAsync(socket, 9, TestHost.TimeoutToken()));
        Assert.Empty(host.Errors.Messages);
    }

    [Fact]
    public async Task Reload_ListenerChangedInPlace_NewSettingsServe()
    {
        await using var host = await JsonConfigHost.StartAsync(Json("""
            "web": { "Address": "tcp://127.0.0.1:0", "Protocols": "Http1" }
            """));
        using var client = new HttpClient { Timeout = TestHost.Timeout };
        Assert.Equal("web|web|HTTP/1.1", await client.GetStringAsync($"http://127.0.0.1:{host.App.ListenerPort("web")}/who"));

        await host.WriteAsync(Json("""
            "web": { "Address": "tcp://127.0.0.1:0", "Protocols": "Http2", "StatPrefix": "ingress_http" }
            """));

        // The changed listener drains and a new one binds (a fresh port 0); wait until it answers with the new settings.
        string? answer = null;
        await WaitUntilAsync(async () =>
        {
            try
            {
                answer = await GetHttp2Async(client, $"http://127.0.0.1:{host.App.ListenerPort("web")}/who");
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException)
            {
            }
            return answer is not null;
        }, "web serving HTTP/2");
        Assert.Equal("web|ingress_http|HTTP/2", answer);
    }

    [Fact]
    public async Task Reload_Invalid_KeepsRunningListenersAndLogsEveryError()
    {
        await using var host = await JsonConfigHost.StartAsync(Json("""
            "web": { "Address": "tcp://127.0.0.1:0" }
            """));
        var port = host.App.ListenerPort("web");

        await host.WriteAsync(Json("""
            "web": { "Address": "tcp://127.0.0.1:0", "BufferSizeKb": "lots" },
            "l4": { "Address": "tcp://127.0.0.1:0", "TcpProxy": { "ClusterId": "nowhere" } }
            """));

        await WaitUntilAsync(() => host.Errors.Messages.Any(m => m.Contains("invalid and was not applied", StringComparison.Ordinal)), "the invalid reload logged");
        // One message per reload (the file watcher may report one write twice), each naming every error.
        Assert.All(host.Errors.Messages, error =>
        {
            Assert.Contains("Listener 'web': BufferSizeKb 'lots' is not an integer.", error, StringComparison.Ordinal);
            Assert.Contains("Listener 'l4': TcpProxy:ClusterId 'nowhere' names no cluster", error, StringComparison.Ordinal);
        });
        var listeners = host.App.Services.GetRequiredService<IListenerStateProvider>().GetListeners();
        Assert.Equal("web", Assert.Single(listeners).Name);
        Assert.Equal(port, host.App.ListenerPort("web"));
        using var client = new HttpClient { Timeout = TestHost.Timeout };
        Assert.Equal("web|web|HTTP/1.1", await client.GetStringAsync($"http://127.0.0.1:{port}/who"));
    }

    [Fact]
    public async Task AddTunnels_CalledTwiceWithOneSection_BindsOnce()
    {
        var section = TunnelsTestHost.Section(new Dictionary<string, string?> { ["Listeners:inner:Address"] = "envoy-internal://inner" });
        var registry = new InternalListenerRegistry();
        await using var host = await TestHost.StartAsync(b =>
        {
            b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, registry).AddTunnels(section, registry);
        }, app => app.MapReverseProxy());

        Assert.Equal("inner", Assert.Single(host.Services.GetRequiredService<IListenerStateProvider>().GetListeners()).Name);
        Assert.Single(host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>(), s => s is ListenerManager);
    }

    [Fact]
    public void AddTunnels_CalledAgainWithAnotherSection_Throws()
    {
        var builder = WebApplication.CreateSlimBuilder();
        var proxy = builder.Services.AddReverseProxy().AddTunnels(builder.Configuration.GetSection("ReverseProxy"));

        var ex = Assert.Throws<InvalidOperationException>(() => proxy.AddTunnels(builder.Configuration.GetSection("Other")));
        Assert.Contains("already called with the section 'ReverseProxy'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_HiddenHttpEndpoints_NotPublished()
    {
        await using var host = await JsonConfigHost.StartAsync(Json("""
            "web": { "Address": "tcp://127.0.0.1:0", "Protocols": "Auto" },
            "inner": { "Address": "envoy-internal://inner" }
            """));
        using var client = new HttpClient { Timeout = TestHost.Timeout };
        await client.GetStringAsync($"http://127.0.0.1:{host.App.ListenerPort("web")}/who");
        using var internalClient = InternalClient(host.Registry, "inner");
        await internalClient.GetStringAsync("http://inner/who");

        await host.App.WaitForStatAsync("listener.envoy_internal_inner.downstream_cx_total", 1);
        await host.App.WaitForStatAsync("listener.web.downstream_cx_total", 1);
        Assert.DoesNotContain(host.App.Stats().Keys, k => k.Contains("yarp-tunnels", StringComparison.Ordinal));
    }

    internal static HttpClient InternalClient(InternalListenerRegistry registry, string name) =>
        new(new SocketsHttpHandler { ConnectCallback = (_, _) => ValueTask.FromResult<Stream>(registry.Connect(name)) }) { Timeout = TestHost.Timeout };

    internal static async Task<string> GetHttp2Async(HttpClient client, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    internal static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), () => what);

    internal static Task WaitUntilAsync(Func<bool> condition, Func<string> what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    internal static Task WaitUntilAsync(Func<Task<bool>> condition, string what) => WaitUntilAsync(condition, () => what);

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow + TestHost.Timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what()}");
            }
            await Task.Delay(20);
        }
    }
}
