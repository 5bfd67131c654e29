namespace Yarp.Tunnels.Telemetry;

/// <summary>The <c>listener.*</c> statistics of one listener, held as fields for the hot path.</summary>
internal sealed class ListenerStats
{
    private readonly StatCounter _total;
    private readonly StatCounter _active;
    private readonly StatCounter _rx;
    private readonly StatCounter _tx;

    public ListenerStats(StatScope scope)
    {
        Scope = scope;
        _total = scope[StatNames.DownstreamCxTotal];
        _active = scope[StatNames.DownstreamCxActive];
        _rx = scope[StatNames.DownstreamCxRxBytesTotal];
        _tx = scope[StatNames.DownstreamCxTxBytesTotal];
        _ = scope[StatNames.DownstreamCxDestroy];
    }

    public StatScope Scope { get; }

    public void ConnectionOpened()
    {
        _total.Increment();
        _active.Increment();
    }

    public void ConnectionClosed()
    {
        _active.Decrement();
        Scope[StatNames.DownstreamCxDestroy].Increment();
    }

    public void AddReceived(long bytes) => _rx.Add(bytes);

    public void AddSent(long bytes) => _tx.Add(bytes);
}
