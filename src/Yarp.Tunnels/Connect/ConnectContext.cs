using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace Yarp.Tunnels.Connect;

/// <summary>What an <see cref="IConnectUpstreamOpener"/> knows of one CONNECT (or <c>AllowPost</c> POST) that matched a route.</summary>
internal sealed class ConnectContext
{
    public required HttpContext HttpContext { get; init; }

    /// <summary>The matched route's id.</summary>
    public required string RouteId { get; init; }

    /// <summary>The route's validated CONNECT settings.</summary>
    public required ConnectRoute Settings { get; init; }

    /// <summary>The route's cluster.</summary>
    public required ClusterState Cluster { get; init; }

    /// <summary>
    /// The destination YARP picked (load balancing, health) for a cluster with destinations, trusted as configured; null
    /// for an original-destination cluster, whose target is <see cref="Target"/> under the route's target policy.
    /// </summary>
    public DestinationState? Destination { get; init; }

    /// <summary>The CONNECT authority (for a POST, the request's <c>Host</c>).</summary>
    public required ConnectTarget Target { get; init; }

    /// <summary>Whether the tunnel is an <c>AllowPost</c> POST rather than a CONNECT.</summary>
    public bool IsPost { get; init; }
}
