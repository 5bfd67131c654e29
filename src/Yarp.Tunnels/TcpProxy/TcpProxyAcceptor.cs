using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>Serves an internal listener's connections with a TCP proxy: no Kestrel, no HTTP.</summary>
internal sealed class TcpProxyAcceptor(TcpProxyHandler handler) : IInternalConnectionAcceptor
{
    public bool TryAccept(ConnectionContext connection)
    {
        ThreadPool.UnsafeQueueUserWorkItem(
            static state => _ = state.handler.HandleAsync(new ConnectionRelayEnd(state.connection), state.connection.Features, state.connection.ConnectionClosed),
            (handler, connection),
            preferLocal: false);
        return true;
    }
}
