using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Tests.Configuration;

public class KestrelEndpointProjectionTests
{
    [Fact]
    public void Reload_AppConfigurationReloadedUnchanged_KestrelSignalledOnlyForRealChanges()
    {
        var root = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxConcurrentConnections"] = "100",
        }).Build();
        var endpoints = new HiddenHttpEndpoints();
        var projection = new KestrelEndpointProjection(root.GetSection("Kestrel"), endpoints);
        var signals = 0;
        using var _ = ChangeToken.OnChange(projection.Configuration.GetReloadToken, () => signals++);

        // Another part of the app's configuration changed (a listener, a route): Kestrel has nothing to re-read.
        root.Reload();
        Assert.Equal(0, signals);

        var endpoint = endpoints.AddListenerEndpoint(HttpProfile.Http1);
        Assert.Equal(1, signals);
        Assert.Equal($"http://pipe:/{endpoint.PipeName}", projection.Configuration[$"Endpoints:{KestrelEndpointProjection.EndpointName(endpoint.Key)}:Url"]);

        root["Kestrel:Limits:MaxConcurrentConnections"] = "200";
        root.Reload();
        Assert.Equal(2, signals);
        Assert.Equal("200", projection.Configuration["Limits:MaxConcurrentConnections"]);

        endpoints.Remove(endpoint);
        Assert.Equal(3, signals);
        Assert.Empty(projection.Configuration.GetSection("Endpoints").GetChildren());
    }

    [Fact]
    public void Load_ConcurrentListenerChanges_LastSnapshotMatchesTheEndpoints()
    {
        var endpoints = new HiddenHttpEndpoints();
        var projection = new KestrelEndpointProjection(new ConfigurationBuilder().Build(), endpoints);
        var kept = endpoints.AddListenerEndpoint(HttpProfile.Http2);

        // Each change publishes a snapshot from its own thread: an older one published last would bring back a removed endpoint.
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 200; i++)
            {
                endpoints.Remove(endpoints.AddListenerEndpoint(HttpProfile.Http1));
            }
        });

        var listed = projection.Configuration.GetSection("Endpoints").GetChildren().Select(c => c.Key).ToList();
        Assert.Equal([KestrelEndpointProjection.EndpointName(kept.Key)], listed);
        Assert.Equal($"http://pipe:/{kept.PipeName}", projection.Configuration[$"Endpoints:{listed[0]}:Url"]);
    }
}
