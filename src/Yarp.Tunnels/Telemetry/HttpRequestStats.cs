namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// The request statistics of one <c>http.&lt;prefix&gt;</c> scope, resolved once (the scope's counters are looked up by
/// name): <c>downstream_rq_total</c>, <c>_active</c>, <c>_time</c> and the <c>downstream_rq_&lt;N&gt;xx</c> counters, each
/// of those created on its first use as before, so <c>/stats</c> shows the same set.
/// </summary>
internal sealed class HttpRequestStats(StatScope scope)
{
    private readonly StatCounter?[] _classes = new StatCounter?[6];

    public StatCounter Total { get; } = scope[StatNames.DownstreamRqTotal];

    public StatCounter Active { get; } = scope[StatNames.DownstreamRqActive];

    public StatHistogram Time { get; } = scope.Histogram(StatNames.DownstreamRqTime);

    /// <summary>Counts one response in <c>downstream_rq_&lt;N&gt;xx</c>; a status outside 100-599 is not counted.</summary>
    public void CountResponse(int statusCode)
    {
        if (statusCode is < 100 or > 599)
        {
            return;
        }
        var index = statusCode / 100;
        var counter = Volatile.Read(ref _classes[index]);
        if (counter is null)
        {
            // Racing first uses resolve the same counter: the scope creates each stat once.
            counter = scope[StatNames.ResponseCodeClass(StatNames.DownstreamRq, statusCode)];
            Volatile.Write(ref _classes[index], counter);
        }
        counter.Increment();
    }
}
