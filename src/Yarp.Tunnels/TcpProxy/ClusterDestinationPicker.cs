using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>Picks a destination of a YARP cluster for a TCP connection with the cluster's load-balancing policy and health state.</summary>
internal sealed class ClusterDestinationPicker
{
    private readonly IServiceProvider _services;
    private readonly Dictionary<string, ILoadBalancingPolicy> _policies;

    public ClusterDestinationPicker(IServiceProvider services, IEnumerable<ILoadBalancingPolicy> policies)
    {
        _services = services;
        _policies = policies.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
    }

    public bool TryPick(string clusterId, out ClusterState? cluster, out DestinationState? destination)
    {
        destination = null;
        // Resolved late: YARP's config manager exists only once the proxy is mapped.
        if (_services.GetService(typeof(IProxyStateLookup)) is not IProxyStateLookup lookup || !lookup.TryGetCluster(clusterId, out cluster))
        {
            cluster = null;
            return false;
        }

        var available = cluster.DestinationsState.AvailableDestinations;
        if (available.Count == 0)
        {
            return false;
        }

        var policyName = cluster.Model.Config.LoadBalancingPolicy ?? LoadBalancingPolicies.PowerOfTwoChoices;
        destination = available.Count == 1 || !_policies.TryGetValue(policyName, out var policy)
            ? available[0]
            : policy.PickDestination(new DefaultHttpContext { RequestServices = _services }, cluster, available);
        return destination is not null;
    }
}
