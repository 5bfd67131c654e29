using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Tests.InternalListeners;

public class SharedStateCollectorTests
{
    private sealed class ItemsFeature : IConnectionItemsFeature
    {
        public IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    }

    [Fact]
    public void Collect_FirstHop_TakesSharedItemsOnly()
    {
        var features = new FeatureCollection();
        var items = new ItemsFeature();
        items.Items["once"] = new SharedState("o", StateSharing.Once);
        items.Items["trans"] = new SharedState("t", StateSharing.Transitive);
        items.Items["plain"] = "not shared";
        features.Set<IConnectionItemsFeature>(items);

        var state = SharedStateCollector.Collect(features)!;

        Assert.Equal(["once", "trans"], state.Keys.Order());
    }

    [Fact]
    public void Collect_LaterHop_PassesOnTransitiveOnly()
    {
        var features = new FeatureCollection();
        features.Set<IInternalConnectionFeature>(new InternalConnectionInfo("hop1", new InternalConnectOptions
        {
            State = new Dictionary<string, SharedState>
            {
                ["once"] = new("o", StateSharing.Once),
                ["trans"] = new("t", StateSharing.Transitive),
            },
        }));

        var state = SharedStateCollector.Collect(features)!;

        Assert.Equal(["trans"], state.Keys);
    }
}
