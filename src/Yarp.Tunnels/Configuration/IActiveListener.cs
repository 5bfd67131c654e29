using System.Net;

namespace Yarp.Tunnels.Configuration;

/// <summary>A started listener of one kind (see <see cref="IListenerHandler"/>).</summary>
internal interface IActiveListener
{
    /// <summary>What it is bound to (port 0 resolved).</summary>
    IReadOnlyList<EndPoint> EndPoints { get; }

    /// <summary>Whether it serves connections (false while an HTTP listener waits for its hidden endpoint).</summary>
    bool IsReady { get; }

    /// <summary>
    /// Stops accepting before returning (a socket is closed, a name unregistered), then lets open connections finish
    /// for up to <paramref name="timeout"/> (HTTP connections are asked to close: GOAWAY, <c>Connection: close</c>)
    /// and resets the rest; <paramref name="abort"/> resets them at once.
    /// </summary>
    Task DrainAsync(TimeSpan timeout, CancellationToken abort);

    /// <summary>
    /// Stops as the host shuts down: HTTP connections are asked to close and may finish until
    /// <paramref name="cancellationToken"/> fires; raw TCP connections are reset at once.
    /// </summary>
    Task StopAsync(CancellationToken cancellationToken);
}
