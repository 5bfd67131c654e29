using System.Net;

namespace Yarp.Tunnels.Tunneling;

/// <summary>What the variables of a <see cref="TunnelFormatString"/> read, for one downstream connection.</summary>
/// <param name="LocalEndPoint">The address the downstream connected to.</param>
/// <param name="RemoteEndPoint">The downstream's address.</param>
/// <param name="RequestedServerName">The SNI of the downstream's TLS ClientHello, if it sent one.</param>
/// <param name="DestinationMetadata">The picked destination's metadata.</param>
/// <param name="ClusterMetadata">The cluster's metadata.</param>
internal sealed record TunnelFormatContext(
    EndPoint? LocalEndPoint,
    EndPoint? RemoteEndPoint,
    string? RequestedServerName,
    IReadOnlyDictionary<string, string>? DestinationMetadata,
    IReadOnlyDictionary<string, string>? ClusterMetadata);
