using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Configuration;

public class ListenerConfigurationTests
{
    private static Task<WebApplication> StartFromJsonAsync(string path, InternalListenerRegistry registry) =>
        TestHost.StartAsync(b =>
        {
            b.Configuration.AddJsonFile(path, optional: false, reloadOnChange: true);
            var section = b.Configuration.GetSection("ReverseProxy");
            b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, registry);
        }, app =>
        {
            app.MapGet("/hello", () => "hello");
            app.MapReverseProxy();
        });

    [Fact]
    public async Task Startup_InvalidConfig_ReportsEveryErrorAtOnce()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReverseProxy:Listeners:zero:Address"] = "envoy-internal://zero",
            ["ReverseProxy:Listeners:zero:BufferSizeKb"] = "0",
            ["ReverseProxy:Listeners:first:Address"] = "envoy-internal://dup",
            ["ReverseProxy:Listeners:second:Address"] = "envoy-internal://dup",
            ["ReverseProxy:Listeners:bad:Address"] = "tcp://not-an-ip:99999",
            ["ReverseProxy:Listeners:tcp:Address"] = "tcp://127.0.0.1:0",
            ["ReverseProxy:Listeners:tcp:TcpProxy:ClusterId"] = "nowhere",
            ["ReverseProxy:Clusters:c1:Destinations:d1:Address"] = "envoy-internal://unknown",
        }).Build().GetSection("ReverseProxy");

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(b =>
            b.Services.AddReverseProxy().LoadFromConfig(config).AddTunnels(config, new InternalListenerRegistry()),
            app => app.MapReverseProxy()));

        var message = ex.ToString();
        Assert.Contains("Listener 'zero': BufferSizeKb 0 is out of range (1-8192)", message);
        Assert.Contains("Listener 'second': internal listener name 'dup' is already used by listener 'first'", message);
        Assert.Contains("Listener 'bad': Address 'tcp://not-an-ip:99999' is malformed", message);
        Assert.Contains("Listener 'tcp': TcpProxy:ClusterId 'nowhere' names no cluster", message);
        Assert.Contains("Cluster 'c1' destination 'd1': Address 'envoy-internal://unknown' names internal listener 'unknown'", message);
    }

    [Fact]
    public async Task Reload_ListenersAddedAndRemoved_AppliedLiveAndRemovedOneDrains()
    {
        var registry = new InternalListenerRegistry();
        await using var echo = TcpEchoServer.Start();
        var dir = Directory.CreateTempSubdirectory("yarp-tunnels-reload");
        var path = Path.Combine(dir.FullName, "proxy.json");
        string Json(bool second) => $$"""
            {
              "ReverseProxy": {
                "Listeners": {
                  {{(second
                      ? $$"""
                        "new": { "Address": "tcp://127.0.0.1:0", "TcpProxy": { "ClusterId": "echo" } },
                        "web": { "Address": "tcp://127.0.0.1:0", "Protocols": "Http1" },
                        "inner2": { "Address": "envoy-internal://inner2", "TcpProxy": { "ClusterId": "echo" } }
                        """
                      : $$"""
                        "old": { "Address": "tcp://127.0.0.1:0", "DrainTimeout": "00:00:02", "TcpProxy": { "ClusterId": "echo" } },
                        "inner1": { "Address": "envoy-internal://inner1", "TcpProxy": { "ClusterId": "echo" } }
                        """)}}
                },
                "Clusters": { "echo": { "Destinations": { "d": { "Address": "tcp://127.0.0.1:{{echo.Port}}" } } } }
              }
            }
            """;
        await File.WriteAllTextAsync(path, Json(second: false));
        try
        {
            await using var host = await StartFromJsonAsync(path, registry);
            var oldPort = host.ListenerPort("old");
            using var live = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await live.ConnectAsync(IPAddress.Loopback, oldPort);
            await AssertEchoAsync(live, "before");
            Assert.True(registry.Contains("inner1"));

            await File.WriteAllTextAsync(path, Json(second: true));

            // The removed listener stops accepting at once, and its open connection still works while it drains...
            await host.WaitForListenerAsync("old", ListenerState.Draining);
            await FreePort.WaitAsync(oldPort, accepting: false);
            await AssertEchoAsync(live, "during drain");
            await host.WaitForListenerAsync("new");
            await host.WaitForListenerAsync("web");
            using var client = new HttpClient { Timeout = TestHost.Timeout };
            Assert.Equal("hello", await client.GetStringAsync($"http://127.0.0.1:{host.ListenerPort("web")}/hello"));
            using var viaNew = await SocketIo.ConnectAsync(host.ListenerPort("new"), TestHost.TimeoutToken());
            await AssertEchoAsync(viaNew, "via new");
            Assert.True(registry.Contains("inner2"));
            Assert.False(registry.Contains("inner1"));

            // ...and is closed once its 2 s drain timeout has passed.
            var buffer = new byte[16];
            var read = await ReadOrResetAsync(live, buffer).WaitAsync(TestHost.Timeout);
            Assert.Equal(0, read);
            await WaitForDrainedAsync(host, "old");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task CodeListeners_TcpProxyDeclaredInOptions_Relays()
    {
        await using var echo = TcpEchoServer.Start();
        await using var host = await TestHost.StartAsync(b =>
        {
            b.Services.AddReverseProxy()
                .LoadFromMemory([], [ProxyConfigs.Single("echo", $"tcp://127.0.0.1:{echo.Port}")])
                .AddTunnels(registry: new InternalListenerRegistry());
            b.Services.Configure<TunnelListenerOptions>(o =>
            {
                o.Listeners.Add(new ListenerConfig { Name = "l4", Address = "tcp://127.0.0.1:0", TcpProxy = new TcpProxyConfig { ClusterId = "echo" } });
            });
        }, app => app.MapReverseProxy());

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, host.ListenerPort("l4"));
        await AssertEchoAsync(socket, "from code");
    }

    private static async Task WaitForDrainedAsync(WebApplication host, string name)
    {
        var provider = host.Services.GetRequiredService<IListenerStateProvider>();
        var deadline = DateTime.UtcNow + TestHost.Timeout;
        while (provider.GetListeners().Any(l => l.Name == name))
        {
            Assert.True(DateTime.UtcNow < deadline, $"listener '{name}' still draining");
            await Task.Delay(20);
        }
    }

    private static async Task AssertEchoAsync(Socket socket, string text)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(text));
        var buffer = new byte[text.Length];
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(total)).AsTask().WaitAsync(TestHost.Timeout);
            Assert.NotEqual(0, read);
            total += read;
        }
        Assert.Equal(text, Encoding.ASCII.GetString(buffer));
    }

    private static async Task<int> ReadOrResetAsync(Socket socket, byte[] buffer)
    {
        try
        {
            return await socket.ReceiveAsync(buffer);
        }
        catch (SocketException)
        {
            return 0;
        }
    }
}
