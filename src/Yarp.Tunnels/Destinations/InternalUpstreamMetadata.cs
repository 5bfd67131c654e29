namespace Yarp.Tunnels.Destinations;

/// <summary>The metadata keys that configure envoy-internal destinations (YARP metadata is a flat string dictionary).</summary>
public static class InternalUpstreamMetadata
{
    /// <summary>
    /// Destination metadata: the endpoint id that tells apart several destinations pointing at one internal listener.
    /// Defaults to the destination id.
    /// </summary>
    public const string EndpointId = "EndpointId";

    /// <summary>
    /// Cluster metadata: a comma-separated list of metadata keys passed to the internal listener side, each
    /// <c>host:KEY</c> (from the destination's metadata) or <c>cluster:KEY</c> (from the cluster's metadata).
    /// A key absent at its source increments <c>cluster.&lt;id&gt;.no_metadata</c>.
    /// </summary>
    public const string PassthroughMetadata = "InternalUpstream.PassthroughMetadata";
}
