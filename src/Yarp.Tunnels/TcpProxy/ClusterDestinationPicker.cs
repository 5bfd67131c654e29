using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>
/// Picks a destination of a YARP cluster for a TCP connection with the cluster's load-balancing policy and health state,
/// and tells YARP about the connection as it would about a proxied request: it counts in the destination's
/// <see cref="DestinationState.ConcurrentRequestCount"/> while open (so <c>LeastRequests</c> sees it), and its connect
/// outcome goes to the cluster's passive health policy.
/// </summary>
internal sealed class ClusterDestinationPicker
{
    private readonly IServiceProvider _services;
    private readonly Dictionary<string, ILoadBalancingPolicy> _policies;
    private readonly Dictionary<string, IPassiveHealthCheckPolicy> _passivePolicies;

    public ClusterDestinationPicker(IServiceProvider services, IEnumerable<ILoadBalancingPolicy> policies, IEnumerable<IPassiveHealthCheckPolicy> passivePolicies)
    {
        _services = services;
        _policies = policies.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        _passivePolicies = passivePolicies.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>A connection to <paramref name="destination"/> opened; call <see cref="Finished"/> when it closes.</summary>
    /// <remarks>
    /// YARP exposes only a setter for the count (its atomic counter is internal), so our updates are serialized on the
    /// destination; an HTTP request YARP forwards to the same destination in the same instant may still race with one.
    /// </remarks>
    public static void Started(DestinationState destination)
    {
        lock (destination)
        {
            destination.ConcurrentRequestCount++;
        }
    }

    public static void Finished(DestinationState destination)
    {
        lock (destination)
        {
            destination.ConcurrentRequestCount--;
        }
    }

    /// <summary>
    /// Reports a connect (or tunnel establishment) outcome to the cluster's passive health policy, when
    /// <c>HealthCheck:Passive:Enabled</c>: a failure counts as a transport error of a proxied request.
    /// </summary>
    public void ReportConnect(ClusterState cluster, DestinationState destination, bool failed)
    {
        if (cluster.Model.Config.HealthCheck?.Passive is not { Enabled: true } passive
            || !_passivePolicies.TryGetValue(passive.Policy ?? HealthCheckConstants.PassivePolicy.TransportFailureRate, out var policy))
        {
            return;
        }
        var context = new DefaultHttpContext { RequestServices = _services };
        if (failed)
        {
            context.Features.Set<IForwarderErrorFeature>(new ConnectError());
        }
        policy.RequestProxied(context, cluster, destination);
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

    private sealed class ConnectError : IForwarderErrorFeature
    {
        public ForwarderError Error => ForwarderError.Request;

        public Exception? Exception => null;
    }
}
