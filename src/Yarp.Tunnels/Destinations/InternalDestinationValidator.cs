using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Configuration.ClusterValidators;

namespace Yarp.Tunnels.Destinations;

/// <summary>Rejects malformed envoy-internal destination addresses, naming the cluster and destination.</summary>
internal sealed class InternalDestinationValidator : IClusterValidator
{
    public ValueTask ValidateAsync(ClusterConfig cluster, IList<Exception> errors)
    {
        Validate(cluster, errors);
        return default;
    }

    public static void Validate(ClusterConfig cluster, IList<Exception> errors)
    {
        if (cluster.Destinations is null)
        {
            return;
        }
        foreach (var (id, destination) in cluster.Destinations)
        {
            Check(cluster.ClusterId, id, "Address", destination.Address, errors);
            Check(cluster.ClusterId, id, "Health", destination.Health, errors);
        }
    }

    private static void Check(string clusterId, string destinationId, string key, string? address, IList<Exception> errors)
    {
        if (InternalAddress.IsInternal(address) && !InternalAddress.TryParse(address!, out _, out _, out var error))
        {
            errors.Add(new ArgumentException(
                $"Cluster '{clusterId}' destination '{destinationId}': {key} '{address}' is not a valid envoy-internal address: {error}."));
        }
    }
}
