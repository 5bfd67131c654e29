using System.Collections.Concurrent;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// The forwarded-request statistics of one destination of a cluster (its <see cref="StatNames.DestinationTag"/>-tagged
/// scope), resolved once instead of by name on every request; each stat is still created on its first use.
/// </summary>
internal sealed class DestinationRequestStats(StatScope scope)
{
    // Per status code: upstream_rq_<code>, upstream_rq_<N>xx and external./internal.upstream_rq_<code>.
    private readonly ConcurrentDictionary<(int Code, bool Internal), StatCounter[]> _byCode = new();

    public StatScope Scope => scope;

    public StatCounter Total { get; } = scope[StatNames.UpstreamRqTotal];

    public StatHistogram Time { get; } = scope.Histogram(StatNames.UpstreamRqTime);

    /// <summary>Charges one response code: <c>upstream_rq_&lt;code&gt;</c>, <c>upstream_rq_&lt;N&gt;xx</c> and <c>external.</c>/<c>internal.upstream_rq_&lt;code&gt;</c>.</summary>
    public void Charge(int statusCode, bool isInternal)
    {
        if (statusCode is < 100 or > 599)
        {
            return;
        }
        if (!_byCode.TryGetValue((statusCode, isInternal), out var counters))
        {
            counters = _byCode.GetOrAdd((statusCode, isInternal), static (key, scope) =>
            [
                scope[StatNames.ResponseCode(StatNames.UpstreamRq, key.Code)],
                scope[StatNames.ResponseCodeClass(StatNames.UpstreamRq, key.Code)],
                scope[StatNames.ResponseCode(key.Internal ? StatNames.InternalUpstreamRq : StatNames.ExternalUpstreamRq, key.Code)],
            ], scope);
        }
        foreach (var counter in counters)
        {
            counter.Increment();
        }
    }
}
