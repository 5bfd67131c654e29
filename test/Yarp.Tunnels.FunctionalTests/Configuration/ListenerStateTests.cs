using System.Net;
using System.Net.Sockets;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Configuration;

/// <summary><see cref="IListenerStateProvider"/>: what each listener is bound to and where it stands.</summary>
public class ListenerStateTests
{
    private static string Json(string listeners) => $$"""
        { "ReverseProxy": { "Listeners": { {{listeners}} }, "Clusters": { "c": { "Destinations": { "d": { "Address": "tcp://127.0.0.1:1" } } } } } }
        """;

    [Fact]
    public async Task GetListeners_EveryKind_BoundWithRealAddresses()
    {
        await using var host = await JsonConfigHost.StartAsync(Json("""
            "web": { "Address": "tcp://127.0.0.1:0", "Protocols": "Auto" },
            "inner": { "Address": "envoy-internal://inner" },
            "l4": { "Address": "tcp://127.0.0.1:0", "TcpProxy": { "ClusterId": "c" } },
            "encap": { "Address": "envoy-internal://encap", "TcpProxy": { "ClusterId": "c" } }
            """));

        foreach (var name in new[] { "web", "inner", "l4", "encap" })
        {
            await host.App.WaitForListenerAsync(name);
        }
        var listeners = host.App.Services.GetListeners();
        Assert.Equal(["encap", "inner", "l4", "web"], listeners.Select(l => l.Name));
        Assert.All(listeners, l => Assert.Null(l.Error));
        Assert.Equal(new InternalEndPoint("inner"), Assert.Single(listeners.Single(l => l.Name == "inner").BoundEndPoints));
        var web = (IPEndPoint)Assert.Single(listeners.Single(l => l.Name == "web").BoundEndPoints);
        Assert.NotEqual(0, web.Port);
        using var client = new HttpClient { Timeout = TestHost.Timeout };
        Assert.Equal("web|web|HTTP/1.1", await client.GetStringAsync($"http://127.0.0.1:{web.Port}/who"));
    }

    [Fact]
    public async Task Reload_PortTaken_FailedWithErrorThenRetriedOnNextChange()
    {
        await using var host = await JsonConfigHost.StartAsync(Json("""
            "web": { "Address": "tcp://127.0.0.1:0" }
            """));
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        var port = ((IPEndPoint)squatter.LocalEndPoint!).Port;

        await host.WriteAsync(Json($$"""
            "web": { "Address": "tcp://127.0.0.1:0" },
            "taken": { "Address": "tcp://127.0.0.1:{{port}}" }
            """));
        var failed = await host.App.WaitForListenerAsync("taken", ListenerState.Failed);
        Assert.NotNull(failed.Error);
        Assert.Empty(failed.BoundEndPoints);
        await ListenerReloadTests.WaitUntilAsync(() => host.Errors.Messages.Any(m => m.Contains("Listener 'taken' could not bind", StringComparison.Ordinal)), "the bind failure logged");

        squatter.Close();
        await host.WriteAsync(Json($$"""
            "web": { "Address": "tcp://127.0.0.1:0", "StatPrefix": "touched" },
            "taken": { "Address": "tcp://127.0.0.1:{{port}}" }
            """));
        var bound = await host.App.WaitForListenerAsync("taken");
        Assert.Equal(port, ((IPEndPoint)Assert.Single(bound.BoundEndPoints)).Port);
        using var client = new HttpClient { Timeout = TestHost.Timeout };
        Assert.Equal("taken|taken|HTTP/1.1", await client.GetStringAsync($"http://127.0.0.1:{port}/who"));
    }
}
