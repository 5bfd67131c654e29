using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.InternalListeners;

public class InternalListenerMetricsTests
{
    /// <summary>Kestrel's connection metrics (e.g. an OpenTelemetry exporter listening) tag each connection from its endpoint.</summary>
    [Fact]
    public async Task Serve_KestrelConnectionMetricsListened_AnswersAndCountsTheConnection()
    {
        var registry = new InternalListenerRegistry();
        await using var backend = await TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal("metered", o => o.Protocols = HttpProtocols.Http1));
        }, BackendApp.Map);
        using var gauges = new HostGauges(backend.Services);
        using var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = (_, _) => ValueTask.FromResult<Stream>(registry.Connect("metered")) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };

        Assert.Equal("ok", await client.GetStringAsync("http://metered/health"));
        Assert.Equal(1, gauges[HostGauges.ActiveConnections]);
    }
}
