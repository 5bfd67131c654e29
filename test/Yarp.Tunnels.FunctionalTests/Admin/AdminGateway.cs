using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Admin;

/// <summary>
/// A gateway with an admin endpoint on a port of its own: <c>front</c> (127.0.0.1:0, stat prefix <c>ingress_http</c>)
/// routes <c>/hello</c> to cluster <c>c1</c> (a backend over HTTP/1.1) and <c>/h2/…</c> to cluster <c>c2</c>, the
/// internal HTTP/2 listener <c>inner</c> of the same host, which routes it (prefix removed) to <c>c1</c> again.
/// </summary>
internal sealed class AdminGateway : IAsyncDisposable
{
    private AdminGateway(WebApplication backend, WebApplication app)
    {
        Backend = backend;
        App = app;
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.ListenerPort("admin")}"), Timeout = TestHost.Timeout };
        Front = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.ListenerPort("front")}"), Timeout = TestHost.Timeout };
    }

    public WebApplication Backend { get; }

    public WebApplication App { get; }

    /// <summary>A client of the admin listener.</summary>
    public HttpClient Admin { get; }

    /// <summary>A keep-alive HTTP/1.1 client of the front listener.</summary>
    public HttpClient Front { get; }

    /// <param name="services">Registrations before the tunnels' own.</param>
    /// <param name="extra">More <c>ReverseProxy</c> keys (or replacements).</param>
    /// <param name="map">The app's own endpoints, mapped before the proxy.</param>
    public static async Task<AdminGateway> StartAsync(Action<IServiceCollection>? services = null, IReadOnlyDictionary<string, string?>? extra = null,
        Action<WebApplication>? map = null)
    {
        var backend = await TestHost.StartAsync(b => b.ListenLoopback(), BackendApp.Map);
        try
        {
            var values = new Dictionary<string, string?>
            {
                ["Admin:Address"] = "127.0.0.1:0",
                ["Listeners:front:Address"] = "tcp://127.0.0.1:0",
                ["Listeners:front:StatPrefix"] = "ingress_http",
                ["Listeners:inner:Address"] = "envoy-internal://inner",
                ["Listeners:inner:Protocols"] = "Http2",
                ["Routes:r1:ClusterId"] = "c1",
                ["Routes:r1:Match:Path"] = "/hello",
                ["Routes:r2:ClusterId"] = "c2",
                ["Routes:r2:Match:Path"] = "/h2/{**rest}",
                ["Routes:r2:Transforms:0:PathRemovePrefix"] = "/h2",
                ["Clusters:c1:Destinations:d1:Address"] = TestHost.Address(backend).ToString(),
                ["Clusters:c2:Destinations:d1:Address"] = "envoy-internal://inner",
                ["Clusters:c2:HttpRequest:Version"] = "2",
                ["Clusters:c2:HttpRequest:VersionPolicy"] = "RequestVersionExact",
            };
            foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            {
                values[key] = value;
            }
            var app = await TunnelsTestHost.StartAsync(TunnelsTestHost.Section(values), new InternalListenerRegistry(), map, services);
            await app.WaitForListenerAsync("front");
            await app.WaitForListenerAsync("admin");
            return new AdminGateway(backend, app);
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends <paramref name="count"/> GETs to <paramref name="path"/> on the front listener, each answered 200.</summary>
    public async Task SendAsync(string path, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await Front.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await response.Content.ReadAsStringAsync();
        }
    }

    /// <summary>The admin's <c>/stats</c> text (after checking its LF line endings), as name → value for counters and gauges.</summary>
    public async Task<Dictionary<string, string>> StatsAsync(string query = "")
    {
        var text = await Admin.GetStringAsync("/stats" + query);
        Assert.DoesNotContain('\r', text);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(": ", 2))
            .ToDictionary(parts => parts[0], parts => parts[1]);
    }

    public async Task<HttpResponseMessage> PostAsync(string path) => await Admin.PostAsync(path, content: null);

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        Front.Dispose();
        await App.DisposeAsync();
        await Backend.DisposeAsync();
    }
}
