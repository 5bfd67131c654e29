namespace Yarp.Tunnels.Utilities;

/// <summary>Fires a connection's <c>ConnectionClosed</c> token for a transport.</summary>
internal static class ConnectionClosedSignal
{
    /// <summary>
    /// Cancels <paramref name="closed"/> on the thread pool, not on the calling transport loop (its callbacks, such as
    /// Kestrel's request aborts, must not run inside that loop); a source already disposed is ignored.
    /// </summary>
    public static void Fire(CancellationTokenSource closed) =>
        ThreadPool.UnsafeQueueUserWorkItem(static cts =>
        {
            try
            {
                cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The connection was disposed first: nobody listens any more.
            }
        }, closed, preferLocal: false);
}
