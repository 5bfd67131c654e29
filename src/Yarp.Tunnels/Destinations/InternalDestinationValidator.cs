using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Configuration.ClusterValidators;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Destinations;

/// <summary>
/// Rejects malformed envoy-internal destination addresses and, when listeners are managed by Yarp.Tunnels, addresses
/// naming an unknown internal listener; each error names the cluster and destination. The first validation also
/// validates the listeners, so a bad configuration is reported all at once, before YARP starts.
/// </summary>
internal sealed class InternalDestinationValidator(IServiceProvider services) : IClusterValidator
{
    public ValueTask ValidateAsync(ClusterConfig cluster, IList<Exception> errors)
    {
        var manager = services.GetService<ListenerManager>();
        manager?.EnsureValidated();
        var messages = new List<string>();
        ListenerConfigValidator.ValidateClusterReferences(cluster, manager is null ? _ => true : manager.IsKnownInternalListener, messages);
        foreach (var message in messages)
        {
            errors.Add(new ArgumentException(message));
        }
        return default;
    }
}
