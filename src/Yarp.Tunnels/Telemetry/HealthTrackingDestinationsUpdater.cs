using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// Decorates YARP's <see cref="IClusterDestinationsUpdater"/>, which YARP calls whenever a cluster's destinations or
/// their health change, so <c>membership_total</c> and <c>membership_healthy</c> follow at once (OpenTelemetry reads them
/// without the admin endpoint).
/// </summary>
internal sealed class HealthTrackingDestinationsUpdater(IClusterDestinationsUpdater inner, ClusterMembershipStats stats) : IClusterDestinationsUpdater
{
    public void UpdateAvailableDestinations(ClusterState cluster)
    {
        inner.UpdateAvailableDestinations(cluster);
        stats.OnHealthChanged(cluster);
    }

    public void UpdateAllDestinations(ClusterState cluster)
    {
        inner.UpdateAllDestinations(cluster);
        stats.OnHealthChanged(cluster);
    }
}
