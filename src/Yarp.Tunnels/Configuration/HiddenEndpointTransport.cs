using System.Net;
using Microsoft.AspNetCore.Connections;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// Binds the hidden HTTP endpoints of <see cref="HiddenHttpEndpoints"/> when Kestrel loads them from configuration as
/// named pipes: in-process listeners, not in any registry, reached only through the listeners that hand connections
/// to them (so they publish no stats of their own).
/// </summary>
internal sealed class HiddenEndpointTransport(HiddenHttpEndpoints endpoints) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is NamedPipeEndPoint pipe && endpoints.TryGet(pipe.PipeName, out _);

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not NamedPipeEndPoint pipe || !endpoints.TryGet(pipe.PipeName, out var hidden))
        {
            throw new NotSupportedException($"{endpoint} is not a hidden Yarp.Tunnels endpoint.");
        }
        var listener = new InternalConnectionListener(new InternalEndPoint(pipe.PipeName), static _ => { });
        hidden.OnBound(listener);
        return new ValueTask<IConnectionListener>(listener);
    }
}
