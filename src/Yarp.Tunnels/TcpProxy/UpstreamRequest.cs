using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Model;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>What an <see cref="IUpstreamConnector"/> gets: the picked destination and what is known of the downstream connection.</summary>
/// <param name="ClusterId">The cluster the destination was picked from.</param>
/// <param name="Cluster">The cluster's state (metadata, destinations).</param>
/// <param name="Destination">The picked destination.</param>
/// <param name="Address">The address to connect to: the destination's, or a target the caller vetted (CONNECT).</param>
/// <param name="ConnectTimeout">Bounds resolving and connecting together.</param>
/// <param name="DownstreamFeatures">The downstream connection's features (shared state), when it has any.</param>
/// <param name="AddressPolicy">
/// Vets each resolved address before a connect; null allows every address (configured destinations are trusted).
/// Connectors resolve once and connect only to addresses it allowed, so a name cannot re-resolve elsewhere between the check and the connect.
/// </param>
/// <param name="Downstream">The downstream end, for connectors that look at it before the relay starts (addresses, a TLS ClientHello peek); they never read from it.</param>
internal sealed record UpstreamRequest(
    string ClusterId,
    ClusterState Cluster,
    DestinationState Destination,
    string Address,
    TimeSpan ConnectTimeout,
    IFeatureCollection? DownstreamFeatures = null,
    Func<IPAddress, bool>? AddressPolicy = null,
    RelayEnd? Downstream = null);
