namespace Yarp.Tunnels.Telemetry;

/// <summary>The <c>listener.*</c> statistics of one listener, held as fields for the hot path.</summary>
internal sealed class ListenerStats
{
    private readonly StatCounter _total;
    private readonly StatCounter _active;
    private readonly StatCounter _rx;
    private readonly StatCounter _tx;
    private readonly StatCounter _destroy;

    public ListenerStats(StatScope scope)
    {
        _total = scope[StatNames.DownstreamCxTotal];
        _active = scope[StatNames.DownstreamCxActive];
        _rx = scope[StatNames.DownstreamCxRxBytesTotal];
        _tx = scope[StatNames.DownstreamCxTxBytesTotal];
        _destroy = scope[StatNames.DownstreamCxDestroy];
    }

    public void ConnectionOpened()
    {
        _total.Increment();
        _active.Increment();
    }

    public void ConnectionClosed()
    {
        _active.Decrement();
        _destroy.Increment();
    }

    public void AddReceived(long bytes) => _rx.Add(bytes);

    public void AddSent(long bytes) => _tx.Add(bytes);
}
