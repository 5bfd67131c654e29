using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Yarp.Tunnels.Utilities;
using Xunit;

namespace Yarp.Tunnels.Tests.Utilities;

public class ConnectionFeatureCollectionTests
{
    private sealed class ItemsFeature : IConnectionItemsFeature
    {
        public IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    }

    private sealed class IdFeature : IConnectionIdFeature
    {
        public string ConnectionId { get; set; } = "c1";
    }

    [Fact]
    public void Get_FeatureNeverSet_ReturnsNull()
    {
        var features = new ConnectionFeatureCollection();

        Assert.Null(features.Get<IConnectionItemsFeature>());
        Assert.Null(features[typeof(IConnectionIdFeature)]);
        Assert.Equal(0, features.Revision);
    }

    [Fact]
    public void Set_SeveralFeatures_EachFoundByItsTypeAndEnumeratedInOrder()
    {
        var features = new ConnectionFeatureCollection();
        var items = new ItemsFeature();
        var id = new IdFeature();

        features.Set<IConnectionItemsFeature>(items);
        features.Set<IConnectionIdFeature>(id);

        Assert.Same(items, features.Get<IConnectionItemsFeature>());
        Assert.Same(id, features.Get<IConnectionIdFeature>());
        Assert.Same(id, features[typeof(IConnectionIdFeature)]);
        // A feature is found by the type it was set under, not by its class.
        Assert.Null(features.Get<IdFeature>());
        Assert.Equal([typeof(IConnectionItemsFeature), typeof(IConnectionIdFeature)], features.Select(pair => pair.Key));
        Assert.Equal(2, features.Revision);
    }

    [Fact]
    public void Set_SameTypeAgain_ReplacesInPlace()
    {
        var features = new ConnectionFeatureCollection();
        var first = new IdFeature();
        var second = new IdFeature();
        features.Set<IConnectionIdFeature>(first);
        features.Set<IConnectionItemsFeature>(new ItemsFeature());

        features.Set<IConnectionIdFeature>(second);

        Assert.Same(second, features.Get<IConnectionIdFeature>());
        Assert.Equal(2, features.Count());
        Assert.Equal(typeof(IConnectionIdFeature), features.First().Key);
        Assert.Equal(3, features.Revision);
    }

    [Fact]
    public void Set_Null_RemovesTheFeatureAndKeepsTheOthers()
    {
        var features = new ConnectionFeatureCollection();
        var items = new ItemsFeature();
        features.Set<IConnectionIdFeature>(new IdFeature());
        features.Set<IConnectionItemsFeature>(items);

        features.Set<IConnectionIdFeature>(null);
        features.Set<IHttpResponseFeature>(null);

        Assert.Null(features.Get<IConnectionIdFeature>());
        Assert.Same(items, Assert.Single(features).Value);
        Assert.Equal(3, features.Revision);
    }

    [Fact]
    public void Set_MoreFeaturesThanTheInitialCapacity_KeepsThemAll()
    {
        var features = new ConnectionFeatureCollection();
        var types = typeof(object).Assembly.GetExportedTypes().Where(type => type.IsInterface).Take(40).ToArray();
        Assert.Equal(40, types.Length);

        foreach (var type in types)
        {
            features[type] = type.Name;
        }

        Assert.All(types, type => Assert.Equal(type.Name, features[type]));
        Assert.Equal(types, features.Select(pair => pair.Key));
    }
}
