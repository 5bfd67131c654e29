namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Set on connections of <c>ReverseProxy:Listeners</c> HTTP socket listeners: takes the socket away from Kestrel, for a
/// tunnel that relays the rest of the connection's bytes itself.
/// </summary>
internal interface ISocketDetachFeature
{
    /// <summary>Whether the connection's bytes are the socket's own (no TLS or other transport wrapper in between).</summary>
    bool CanDetach { get; }

    /// <summary>
    /// Sends what Kestrel already wrote, stops receiving, and returns the socket with the bytes received but not read by
    /// Kestrel. Kestrel's reads then see nothing more from the socket, and its writes go nowhere.
    /// </summary>
    /// <exception cref="Microsoft.AspNetCore.Connections.ConnectionResetException">The connection closed meanwhile.</exception>
    ValueTask<DetachedSocket> DetachAsync();
}
