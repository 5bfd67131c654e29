using Yarp.ReverseProxy.Configuration;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// The cluster metadata key that declares a cluster original-destination (Envoy's <c>ORIGINAL_DST</c>): a CONNECT routed
/// to it goes to the CONNECT authority itself, under the route's target policy, instead of to a configured destination.
/// </summary>
internal static class OriginalDestination
{
    /// <summary><c>Clusters:&lt;id&gt;:Metadata:Connect.OriginalDestination</c> = <c>true</c>; such a cluster has no destinations.</summary>
    public const string MetadataKey = "Connect.OriginalDestination";

    /// <summary>Whether <paramref name="cluster"/> is declared original-destination (a value that is not a boolean is a validation error).</summary>
    public static bool IsDeclared(ClusterConfig? cluster) =>
        cluster?.Metadata?.TryGetValue(MetadataKey, out var value) == true && bool.TryParse(value, out var declared) && declared;
}
