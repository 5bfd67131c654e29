using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Configuration.ClusterValidators;

namespace Yarp.Tunnels.Connect;

/// <summary>Checks the <see cref="OriginalDestination.MetadataKey"/> of each cluster: a boolean, and no destinations beside it.</summary>
internal sealed class OriginalDestinationValidator : IClusterValidator
{
    public ValueTask ValidateAsync(ClusterConfig cluster, IList<Exception> errors)
    {
        if (cluster.Metadata?.TryGetValue(OriginalDestination.MetadataKey, out var value) != true)
        {
            return default;
        }
        if (!bool.TryParse(value, out var declared))
        {
            errors.Add(new ArgumentException($"Cluster '{cluster.ClusterId}': Metadata {OriginalDestination.MetadataKey} '{value}' is not a boolean (true or false)."));
        }
        else if (declared && cluster.Destinations is { Count: > 0 })
        {
            errors.Add(new ArgumentException($"Cluster '{cluster.ClusterId}': an original-destination cluster ({OriginalDestination.MetadataKey}: true) takes its target from the CONNECT authority; remove its Destinations."));
        }
        return default;
    }
}
