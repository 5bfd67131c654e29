using System.Net.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.Tunnels.Destinations;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.FunctionalTests.Destinations;

/// <summary>The connector as YARP's HTTP client uses it, against a real Kestrel backend on an internal listener.</summary>
public class InternalListenerConnectorTests
{
    /// <summary>Rewrites each request like YARP's client does, then optionally forgets every target before the connect.</summary>
    private sealed class RewriteHandler(HttpMessageHandler inner, InternalListenerConnector connector, bool sweepBeforeConnect) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            connector.Rewrite(request, "c");
            if (sweepBeforeConnect)
            {
                connector.Sweep(usedBefore: long.MaxValue);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    private static (HttpMessageInvoker Client, ServiceProvider Services) CreateClient(InternalListenerRegistry registry, bool sweepBeforeConnect)
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var connector = new InternalListenerConnector(registry,
            new TunnelMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            NullLogger<InternalListenerConnector>.Instance);
        var handler = new SocketsHttpHandler { ConnectCallback = connector.ConnectAsync };
        return (new HttpMessageInvoker(new RewriteHandler(handler, connector, sweepBeforeConnect)), services);
    }

    [Fact]
    public async Task ConnectAsync_TargetSweptBetweenRewriteAndConnect_StillConnectsToTheListener()
    {
        var registry = new InternalListenerRegistry();
        await using var backend = await TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal("svc"));
        }, BackendApp.Map);
        var (client, services) = CreateClient(registry, sweepBeforeConnect: true);
        using var _ = services;
        using var __ = client;

        using var request = new HttpRequestMessage(HttpMethod.Get, "envoy-internal://svc/hello");
        using var response = await client.SendAsync(request, TestHost.TimeoutToken());

        response.EnsureSuccessStatusCode();
        Assert.Equal("hello HTTP/1.1 host=svc", await response.Content.ReadAsStringAsync(TestHost.TimeoutToken()));
    }

    [Fact]
    public async Task ConnectAsync_SyntheticHostWithoutTarget_FailsClearlyWithoutDnsLookup()
    {
        var (client, services) = CreateClient(new InternalListenerRegistry(), sweepBeforeConnect: false);
        using var _ = services;
        using var __ = client;

        // A synthetic host name reached without the rewrite (e.g. copied from a log).
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://t1.envoy-internal.invalid/hello");
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(request, TestHost.TimeoutToken()));

        var inner = Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Contains("'t1.envoy-internal.invalid' is a synthetic envoy-internal host name", inner.Message, StringComparison.Ordinal);
    }
}
