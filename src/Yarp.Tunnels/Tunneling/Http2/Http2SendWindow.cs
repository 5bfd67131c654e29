using Microsoft.AspNetCore.Connections;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>
/// A send flow-control window (RFC 9113 §6.9): writers take credit before sending DATA and wait while it is exhausted;
/// WINDOW_UPDATE and SETTINGS_INITIAL_WINDOW_SIZE changes add to it. It may go negative after a SETTINGS change.
/// </summary>
internal sealed class Http2SendWindow(long initial)
{
    /// <summary>The largest window RFC 9113 allows (2^31 - 1).</summary>
    public const long MaxWindow = int.MaxValue;

    private long _available = initial;
    private TaskCompletionSource? _waiter;
    private string? _closedReason;

    /// <summary>Adds credit; false (and no change) when the window would exceed 2^31 - 1, a FLOW_CONTROL_ERROR.</summary>
    public bool TryAdd(long delta)
    {
        TaskCompletionSource? waiter;
        lock (this)
        {
            if (_available + delta > MaxWindow)
            {
                return false;
            }
            _available += delta;
            if (_available <= 0)
            {
                return true;
            }
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult();
        return true;
    }

    /// <summary>Takes between 1 and <paramref name="max"/> octets of credit, waiting while there is none.</summary>
    /// <exception cref="ConnectionResetException">The stream or connection closed.</exception>
    public async ValueTask<int> TakeAsync(int max, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (this)
            {
                if (_closedReason is { } reason)
                {
                    throw new ConnectionResetException(reason);
                }
                if (_available > 0)
                {
                    var taken = (int)Math.Min(max, _available);
                    _available -= taken;
                    return taken;
                }
                _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _waiter.Task;
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Fails current and later writers with <paramref name="reason"/>.</summary>
    public void Close(string reason)
    {
        TaskCompletionSource? waiter;
        lock (this)
        {
            _closedReason ??= reason;
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult();
    }
}
