using System.Collections.Concurrent;
using Yarp.ReverseProxy.Model;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// <c>cluster.&lt;id&gt;.membership_change</c>, <c>membership_total</c> and <c>membership_healthy</c> from YARP's clusters:
/// a change is a cluster's first non-empty set of destinations or any later set that differs in a destination id or
/// address (as Envoy counts its first host set and every host added or removed). The gauges follow each set and each
/// health change (<see cref="HealthTrackingDestinationsUpdater"/>).
/// </summary>
internal sealed class ClusterMembershipStats(TunnelMetrics metrics) : IClusterChangeListener
{
    private readonly ConcurrentDictionary<string, HashSet<(string Id, string Address)>> _members = new(StringComparer.OrdinalIgnoreCase);

    public void OnClusterAdded(ClusterState cluster) => Update(cluster);

    public void OnClusterChanged(ClusterState cluster) => Update(cluster);

    public void OnClusterRemoved(ClusterState cluster)
    {
        _members.TryRemove(cluster.ClusterId, out _);
        var scope = Scope(cluster);
        scope[StatNames.MembershipTotal].Set(0);
        scope[StatNames.MembershipHealthy].Set(0);
    }

    /// <summary>Sets the gauges from the cluster's destinations and their health as YARP sees them now.</summary>
    public void OnHealthChanged(ClusterState cluster)
    {
        var destinations = cluster.Destinations.Values;
        var scope = Scope(cluster);
        scope[StatNames.MembershipTotal].Set(destinations.Count);
        scope[StatNames.MembershipHealthy].Set(destinations.Count(static d => d.Health.Active != DestinationHealth.Unhealthy && d.Health.Passive != DestinationHealth.Unhealthy));
    }

    private void Update(ClusterState cluster)
    {
        var members = cluster.Destinations.Values.Select(static d => (d.DestinationId, d.Model.Config.Address)).ToHashSet();
        var changed = false;
        _members.AddOrUpdate(cluster.ClusterId,
            _ =>
            {
                changed = members.Count > 0;
                return members;
            },
            (_, previous) =>
            {
                changed = !previous.SetEquals(members);
                return members;
            });
        if (changed)
        {
            Scope(cluster)[StatNames.MembershipChange].Increment();
        }
        OnHealthChanged(cluster);
    }

    private StatScope Scope(ClusterState cluster) => metrics.Scope(StatNames.ClusterFamily, cluster.ClusterId);
}
