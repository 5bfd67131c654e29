using System.Net.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.Tunnels.Destinations;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Tests.Destinations;

public class InternalListenerConnectorTests
{
    private static InternalListenerConnector Create(ServiceProvider services) => new(
        new InternalListenerRegistry(),
        new TunnelMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
        NullLogger<InternalListenerConnector>.Instance);

    private static HttpRequestMessage Request(string state)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "envoy-internal://svc/path?q=1");
        request.Options.Set(InternalRequestTarget.OptionsKey, new InternalRequestTarget("c", null, "d1", null,
            new Dictionary<string, SharedState> { ["client"] = new(state, StateSharing.Once) }));
        return request;
    }

    [Fact]
    public void Rewrite_InternalAddress_SyntheticHostPerStateAndHostHeaderIsListener()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var connector = Create(services);
        using var a1 = Request("a");
        using var a2 = Request("a");
        using var b = Request("b");

        connector.Rewrite(a1, "c");
        connector.Rewrite(a2, "c");
        connector.Rewrite(b, "c");

        Assert.Equal("http", a1.RequestUri!.Scheme);
        Assert.Equal("/path?q=1", a1.RequestUri.PathAndQuery);
        Assert.Equal("svc", a1.Headers.Host);
        Assert.Equal(a1.RequestUri, a2.RequestUri);
        Assert.NotEqual(a1.RequestUri.Host, b.RequestUri!.Host);
        Assert.Equal(2, connector.TargetCount);
    }

    [Fact]
    public void Sweep_TargetsIdleLongerThanLifetime_Forgotten()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var connector = Create(services);
        using var request = Request("a");
        connector.Rewrite(request, "c");

        connector.Sweep(usedBefore: Environment.TickCount64 - 60_000);
        Assert.Equal(1, connector.TargetCount);

        connector.Sweep(usedBefore: Environment.TickCount64 + 1);
        Assert.Equal(0, connector.TargetCount);
    }
}
