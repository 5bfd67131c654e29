using System.Net.Http;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Yarp.Tunnels.Destinations;

/// <summary>Decorates YARP's probing request factory so active health probes to envoy-internal destinations carry their destination.</summary>
internal sealed class InternalProbingRequestFactory(IProbingRequestFactory inner, IServiceProvider services) : IProbingRequestFactory
{
    public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination)
    {
        var request = inner.CreateRequest(cluster, destination);
        if (InternalAddress.IsInternal(destination.Config.Health ?? destination.Config.Address))
        {
            string? destinationId = null;
            if (services.GetService(typeof(IProxyStateLookup)) is IProxyStateLookup lookup
                && lookup.TryGetCluster(cluster.Config.ClusterId, out var state))
            {
                destinationId = state.Destinations.FirstOrDefault(d => ReferenceEquals(d.Value.Model, destination)).Key;
            }
            request.Options.Set(InternalRequestTarget.OptionsKey, new InternalRequestTarget(
                cluster.Config.ClusterId, cluster.Config.Metadata, destinationId, destination.Config.Metadata, State: null));
        }
        return request;
    }
}
