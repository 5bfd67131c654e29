using Microsoft.AspNetCore.Connections;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>What serves the connections of an internal listener: a Kestrel listener or a TCP proxy handler.</summary>
internal interface IInternalConnectionAcceptor
{
    /// <summary>Takes ownership of <paramref name="connection"/>, or returns false if no longer accepting.</summary>
    /// <exception cref="InternalListenerBusyException">Still accepting, but too many connections are waiting to be accepted.</exception>
    bool TryAccept(ConnectionContext connection);
}
