using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Destinations;

/// <summary>Picks the metadata passed to an internal listener, as listed by the cluster's <see cref="InternalUpstreamMetadata.PassthroughMetadata"/>.</summary>
internal static class PassthroughMetadata
{
    public static Dictionary<string, string>? Collect(string clusterId, IReadOnlyDictionary<string, string>? clusterMetadata,
        IReadOnlyDictionary<string, string>? destinationMetadata, TunnelMetrics metrics)
    {
        if (clusterMetadata?.GetValueOrDefault(InternalUpstreamMetadata.PassthroughMetadata) is not { Length: > 0 } list)
        {
            return null;
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = entry.IndexOf(':', StringComparison.Ordinal);
            var fromCluster = separator >= 0 && entry.AsSpan(0, separator).Equals("cluster", StringComparison.OrdinalIgnoreCase);
            var key = separator < 0 ? entry : entry[(separator + 1)..];
            var source = fromCluster ? clusterMetadata : destinationMetadata;
            if (source is not null && source.TryGetValue(key, out var value))
            {
                // Like Envoy, a later entry for the same key wins.
                result[key] = value;
            }
            else
            {
                metrics.Scope(StatNames.ClusterFamily, clusterId)[StatNames.NoMetadata].Increment();
            }
        }
        return result;
    }
}
