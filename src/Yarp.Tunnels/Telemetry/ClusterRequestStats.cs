using System.Collections.Concurrent;
using System.Net.Http;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// The request and connection statistics the forwarder's HTTP client of one cluster records: <c>cluster.&lt;id&gt;.*</c>,
/// each series tagged with the destination it concerns (<see cref="StatNames.DestinationTag"/>), so <c>/clusters</c>
/// shows them per destination and <c>/stats</c> their sum.
/// </summary>
internal sealed class ClusterRequestStats(StatScope cluster)
{
    private readonly ConcurrentDictionary<string, DestinationRequestStats> _destinations = new(StringComparer.Ordinal);

    /// <summary>The scope of the destination a request (or the request that opened a connection) is for; the cluster's own without one.</summary>
    public StatScope For(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(UpstreamRequestInfo.OptionsKey, out var info) ? Destination(info.DestinationId).Scope : cluster;

    /// <summary>The request statistics of one destination, resolved once per destination.</summary>
    public DestinationRequestStats Destination(string destinationId) =>
        _destinations.TryGetValue(destinationId, out var stats)
            ? stats
            : _destinations.GetOrAdd(destinationId, static (id, cluster) => new DestinationRequestStats(cluster.WithTag(StatNames.DestinationTag, id)), cluster);

    /// <summary>
    /// Counts one connection the handler opened (<c>upstream_cx_total</c>, <c>upstream_cx_active</c> until the pool
    /// disposes the returned stream).
    /// </summary>
    public Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> CountConnections(
        Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> connect) => async (context, cancellationToken) =>
    {
        var stream = await connect(context, cancellationToken).ConfigureAwait(false);
        var scope = For(context.InitialRequestMessage);
        scope[StatNames.UpstreamCxTotal].Increment();
        var active = scope[StatNames.UpstreamCxActive];
        active.Increment();
        return new CountedConnectionStream(stream, active);
    };

    /// <summary>The <see cref="SocketsHttpHandler.PlaintextStreamFilter"/>: counts the protocol each connection negotiated (after TLS and ALPN).</summary>
    public ValueTask<Stream> CountProtocol(SocketsHttpPlaintextStreamFilterContext context, CancellationToken cancellationToken)
    {
        For(context.InitialRequestMessage)[context.NegotiatedHttpVersion.Major >= 2 ? StatNames.UpstreamCxHttp2Total : StatNames.UpstreamCxHttp1Total].Increment();
        return ValueTask.FromResult(context.PlaintextStream);
    }
}
