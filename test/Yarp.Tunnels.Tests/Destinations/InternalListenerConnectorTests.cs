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

    private static HttpRequestMessage Request(object state)
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

    /// <summary>A state value class without Equals, GetHashCode or ToString overrides.</summary>
    private sealed class Tenant(string name)
    {
        public string Name { get; } = name;
    }

    private sealed record TenantRecord(string Name);

    [Fact]
    public void Rewrite_StateOfClassWithoutOverrides_SameHostOnlyForTheSameInstance()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var connector = Create(services);
        var first = new Tenant("a");
        using var firstAgain1 = Request(first);
        using var firstAgain2 = Request(first);
        using var second = Request(new Tenant("a"));

        connector.Rewrite(firstAgain1, "c");
        connector.Rewrite(firstAgain2, "c");
        connector.Rewrite(second, "c");

        Assert.Equal(firstAgain1.RequestUri!.Host, firstAgain2.RequestUri!.Host);
        Assert.NotEqual(firstAgain1.RequestUri.Host, second.RequestUri!.Host);
    }

    [Fact]
    public void Rewrite_EqualStateValues_ShareHost()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var connector = Create(services);
        using var a1 = Request(new TenantRecord("a"));
        using var a2 = Request(new TenantRecord("a"));
        using var b = Request(new TenantRecord("b"));

        connector.Rewrite(a1, "c");
        connector.Rewrite(a2, "c");
        connector.Rewrite(b, "c");

        Assert.Equal(a1.RequestUri!.Host, a2.RequestUri!.Host);
        Assert.NotEqual(a1.RequestUri.Host, b.RequestUri!.Host);
    }
}
