using System.Net.Http;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// Counts the requests the forwarder sends to one cluster (those marked by <see cref="UpstreamStatsTransform"/>; active
/// health probes are not): <c>upstream_rq_total</c>, the response code stats and <c>upstream_rq_time</c>, all charged
/// before the response is handed back, so before the downstream client sees it. A request that gets no response is
/// charged as Envoy charges a reset: 504 (and <c>upstream_rq_timeout</c>) when it was cancelled without the client
/// going away (YARP's activity timeout), 503 otherwise; nothing when the client went away.
/// </summary>
internal sealed class UpstreamStatsHandler : DelegatingHandler
{
    private readonly ClusterRequestStats _stats;
    private readonly TimeProvider _timeProvider;
    // Made once: a method group converted per request would allocate a delegate for every request.
    private readonly Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> _send;

    public UpstreamStatsHandler(HttpMessageHandler inner, ClusterRequestStats stats, TimeProvider timeProvider)
        : base(inner)
    {
        _stats = stats;
        _timeProvider = timeProvider;
        _send = base.SendAsync;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        CountAsync(_stats, request, _timeProvider, _send, cancellationToken);

    /// <summary>Sends <paramref name="request"/> with <paramref name="send"/> and counts it as the handler does (for the upgrade forwarder's own connections too).</summary>
    public static async Task<HttpResponseMessage> CountAsync(ClusterRequestStats stats, HttpRequestMessage request, TimeProvider timeProvider,
        Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(UpstreamRequestInfo.OptionsKey, out var info))
        {
            return await send(request, cancellationToken).ConfigureAwait(false);
        }

        var destination = stats.Destination(info.DestinationId);
        destination.Total.Increment();
        var started = timeProvider.GetTimestamp();
        try
        {
            var response = await send(request, cancellationToken).ConfigureAwait(false);
            destination.Time.Record(timeProvider.GetElapsedTime(started).TotalMilliseconds);
            destination.Charge((int)response.StatusCode, info.Internal);
            return response;
        }
        catch (Exception ex) when (!info.DownstreamAborted.IsCancellationRequested)
        {
            var timedOut = ex is OperationCanceledException;
            if (timedOut)
            {
                destination.Scope[StatNames.UpstreamRqTimeout].Increment();
            }
            destination.Charge(timedOut ? 504 : 503, info.Internal);
            throw;
        }
    }
}
