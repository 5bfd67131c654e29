using System.Collections.Concurrent;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// <c>cluster.&lt;id&gt;.membership_change</c>, <c>membership_total</c> and <c>membership_healthy</c> from YARP's clusters:
/// a change is a cluster's first set of destinations or any later set that differs in a destination id or address (as
/// Envoy counts its first host set and every host added or removed). The gauges follow each change and are refreshed
/// from YARP's live health state whenever the statistics are read.
/// </summary>
internal sealed class ClusterMembershipStats : IClusterChangeListener
{
    private readonly ConcurrentDictionary<string, HashSet<(string Id, string Address)>> _members = new(StringComparer.OrdinalIgnoreCase);
    private readonly TunnelMetrics _metrics;
    private readonly IServiceProvider _services;

    public ClusterMembershipStats(TunnelMetrics metrics, IServiceProvider services)
    {
        _metrics = metrics;
        _services = services;
        metrics.AddRefresh(Refresh);
    }

    public void OnClusterAdded(ClusterState cluster) => Update(cluster);

    public void OnClusterChanged(ClusterState cluster) => Update(cluster);

    public void OnClusterRemoved(ClusterState cluster)
    {
        _members.TryRemove(cluster.ClusterId, out _);
        var scope = Scope(cluster);
        scope[StatNames.MembershipTotal].Set(0);
        scope[StatNames.MembershipHealthy].Set(0);
    }

    private void Update(ClusterState cluster)
    {
        var members = cluster.Destinations.Values.Select(static d => (d.DestinationId, d.Model.Config.Address)).ToHashSet();
        var scope = Scope(cluster);
        var changed = true;
        _members.AddOrUpdate(cluster.ClusterId, members, (_, previous) =>
        {
            changed = !previous.SetEquals(members);
            return members;
        });
        if (changed && (members.Count > 0 || scope[StatNames.MembershipTotal].Value > 0))
        {
            scope[StatNames.MembershipChange].Increment();
        }
        SetGauges(cluster, scope);
    }

    private void Refresh()
    {
        if (_services.GetService(typeof(IProxyStateLookup)) is IProxyStateLookup lookup)
        {
            foreach (var cluster in lookup.GetClusters())
            {
                if (_members.ContainsKey(cluster.ClusterId))
                {
                    SetGauges(cluster, Scope(cluster));
                }
            }
        }
    }

    private static void SetGauges(ClusterState cluster, StatScope scope)
    {
        var destinations = cluster.Destinations.Values;
        scope[StatNames.MembershipTotal].Set(destinations.Count);
        scope[StatNames.MembershipHealthy].Set(destinations.Count(static d => d.Health.Active != DestinationHealth.Unhealthy && d.Health.Passive != DestinationHealth.Unhealthy));
    }

    private StatScope Scope(ClusterState cluster) => _metrics.Scope(StatNames.ClusterFamily, cluster.ClusterId);
}
