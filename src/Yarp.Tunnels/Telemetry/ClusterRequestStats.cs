using System.Net.Http;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// The request and connection statistics the forwarder's HTTP client of one cluster records: <c>cluster.&lt;id&gt;.*</c>,
/// each series tagged with the destination it concerns (<see cref="StatNames.DestinationTag"/>), so <c>/clusters</c>
/// shows them per destination and <c>/stats</c> their sum.
/// </summary>
internal sealed class ClusterRequestStats(StatScope cluster)
{
    /// <summary>The scope of the destination a request (or the request that opened a connection) is for; the cluster's own without one.</summary>
    public StatScope For(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(UpstreamRequestInfo.OptionsKey, out var info) ? cluster.WithTag(StatNames.DestinationTag, info.DestinationId) : cluster;

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

    /// <summary>Charges one response code: <c>upstream_rq_&lt;code&gt;</c>, <c>upstream_rq_&lt;N&gt;xx</c> and <c>external.</c>/<c>internal.upstream_rq_&lt;code&gt;</c>.</summary>
    public static void Charge(StatScope scope, int statusCode, bool isInternal)
    {
        if (statusCode is < 100 or > 599)
        {
            return;
        }
        scope[StatNames.ResponseCode(StatNames.UpstreamRq, statusCode)].Increment();
        scope[StatNames.ResponseCodeClass(StatNames.UpstreamRq, statusCode)].Increment();
        scope[StatNames.ResponseCode(isInternal ? StatNames.InternalUpstreamRq : StatNames.ExternalUpstreamRq, statusCode)].Increment();
    }
}
