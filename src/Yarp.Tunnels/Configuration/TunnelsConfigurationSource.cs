using Microsoft.Extensions.Configuration;
using Yarp.ReverseProxy.Configuration;
using Yarp.Tunnels.Destinations;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Where this host's Yarp.Tunnels configuration lives: the reverse proxy section given to <c>AddTunnels</c>. Listeners
/// and the clusters they use are read from it together, so one edit that adds both validates against itself whichever
/// change callback (ours or YARP's) runs first.
/// </summary>
internal sealed class TunnelsConfigurationSource(IConfiguration? reverseProxySection)
{
    public IConfiguration? ReverseProxy { get; } = reverseProxySection;

    public IConfiguration? Listeners { get; } = reverseProxySection?.GetSection("Listeners");

    /// <summary>The clusters of the section as it is now: ids and destination addresses, all the listener checks need.</summary>
    public IEnumerable<ClusterConfig> ReadClusters() =>
        ReverseProxy?.GetSection("Clusters").GetChildren().Select(cluster => new ClusterConfig
        {
            ClusterId = cluster.Key,
            Destinations = cluster.GetSection("Destinations").GetChildren()
                .ToDictionary(d => d.Key, d => new DestinationConfig { Address = d["Address"] ?? "" }, StringComparer.OrdinalIgnoreCase),
        }) ?? [];

    /// <summary>Whether the section, as it is now, declares an internal listener named <paramref name="name"/>.</summary>
    public bool DeclaresInternalListener(string name) =>
        Listeners?.GetChildren().Any(l => l["Address"] is { } address && InternalAddress.IsInternal(address)
            && InternalAddress.TryParse(address, out var declared, out _, out _) && declared == name) ?? false;
}
