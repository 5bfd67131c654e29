using System.Net.Http;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// Marks a request the forwarder sends on behalf of a downstream request (set by <see cref="UpstreamStatsTransform"/>),
/// so <see cref="UpstreamStatsHandler"/> counts it; active health probes never carry it and are not counted.
/// </summary>
/// <param name="DestinationId">The destination YARP picked.</param>
/// <param name="Internal">Whether the downstream request arrived on an internal listener (Envoy's <c>internal.</c> stats).</param>
/// <param name="DownstreamAborted">The downstream request's abort token: a failure after it fired is the client's, not the upstream's.</param>
/// <param name="SentAt">
/// The <see cref="System.Diagnostics.Stopwatch"/> timestamp of the request transforms, where the upstream service time
/// (<c>ResponseHeaders:UpstreamServiceTimeHeader</c>) starts.
/// </param>
internal sealed record UpstreamRequestInfo(string DestinationId, bool Internal, CancellationToken DownstreamAborted, long SentAt)
{
    public static readonly HttpRequestOptionsKey<UpstreamRequestInfo> OptionsKey = new("Yarp.Tunnels.UpstreamRequestInfo");
}
