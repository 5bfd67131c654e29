using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Configuration;

/// <summary>Every HTTP connection accepted on a Yarp.Tunnels listener carries that listener's identity to middleware.</summary>
public class HttpListenerFeatureTests
{
    [Fact]
    public async Task Feature_SocketInternalAndAutoH2c_EachNamesItsOwnListener()
    {
        var registry = new InternalListenerRegistry();
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Listeners:web:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:web:StatPrefix"] = "ingress_http",
            ["Listeners:auto:Address"] = "tcp://127.0.0.1:0",
            ["Listeners:auto:Protocols"] = "Auto",
            ["Listeners:inner:Address"] = "envoy-internal://inner",
            ["Listeners:inner:Protocols"] = "Http2",
            ["Listeners:inner:StatPrefix"] = "inner_http",
        });
        await using var host = await TunnelsTestHost.StartAsync(section, registry, app => app.MapGet("/who", (HttpContext c) =>
            c.Features.Get<IHttpListenerFeature>() is { } listener ? $"{listener.ListenerName}|{listener.StatPrefix}|{c.Request.Protocol}" : "none"));
        var (webPort, autoPort) = (host.ListenerPort("web"), host.ListenerPort("auto"));

        using var client = new HttpClient { Timeout = TestHost.Timeout };
        Assert.Equal("web|ingress_http|HTTP/1.1", await client.GetStringAsync($"http://127.0.0.1:{webPort}/who"));
        Assert.Equal("auto|auto|HTTP/1.1", await client.GetStringAsync($"http://127.0.0.1:{autoPort}/who"));
        Assert.Equal("auto|auto|HTTP/2", await GetHttp2Async(client, $"http://127.0.0.1:{autoPort}/who"));

        using var internalClient = new HttpClient(new SocketsHttpHandler { ConnectCallback = (_, _) => ValueTask.FromResult<Stream>(registry.Connect("inner")) })
        {
            Timeout = TestHost.Timeout,
        };
        Assert.Equal("inner|inner_http|HTTP/2", await GetHttp2Async(internalClient, "http://inner/who"));
    }

    private static async Task<string> GetHttp2Async(HttpClient client, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
