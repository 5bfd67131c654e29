namespace Yarp.Tunnels.Utilities;

/// <summary>
/// Calls back once when <see cref="Touch"/> has not been called for the timeout. Touching only records a timestamp; the
/// one timer re-arms itself for the remaining time when it fires early, so busy streams cost no timer changes.
/// </summary>
internal sealed class IdleTimer : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _timeProvider;
    private readonly Action _onIdle;
    private readonly ITimer _timer;
    private long _lastActivity;

    public IdleTimer(TimeSpan timeout, TimeProvider timeProvider, Action onIdle)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _timeout = timeout;
        _timeProvider = timeProvider;
        _onIdle = onIdle;
        _lastActivity = timeProvider.GetTimestamp();
        _timer = timeProvider.CreateTimer(static state => ((IdleTimer)state!).OnTimer(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    public void Touch() => Volatile.Write(ref _lastActivity, _timeProvider.GetTimestamp());

    public void Dispose() => _timer.Dispose();

    private void OnTimer()
    {
        var idleFor = _timeProvider.GetElapsedTime(Volatile.Read(ref _lastActivity));
        if (idleFor < _timeout)
        {
            try
            {
                _timer.Change(_timeout - idleFor, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
            }
            return;
        }
        _onIdle();
    }
}
