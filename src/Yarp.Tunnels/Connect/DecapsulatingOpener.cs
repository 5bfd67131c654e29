using Microsoft.AspNetCore.Http;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// <c>Decapsulate: true</c>: the tunnel's bytes go to the gateway's own HTTP stack (<see cref="DecapsulationEndpoint"/>),
/// whose routes that accept this CONNECT route's tunnels (<see cref="DecapsulatedRouteMatcherPolicy"/>) serve the
/// requests inside; the route's cluster and target policy play no part.
/// </summary>
internal sealed class DecapsulatingOpener(DecapsulationEndpoint endpoint) : IConnectUpstreamOpener
{
    public async ValueTask<ConnectUpstreamResult> OpenAsync(ConnectContext context, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(context.Settings.ConnectTimeout);
        try
        {
            var inner = await endpoint.OpenAsync(context.HttpContext, context.RouteId, context.Target.Authority, timeout.Token).ConfigureAwait(false);
            return ConnectUpstreamResult.Connected(new StreamRelayEnd(inner));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ConnectUpstreamResult.Failed(StatusCodes.Status503ServiceUnavailable, "destination_unavailable",
                "the gateway's hidden HTTP endpoint for decapsulated tunnels was not bound within the connect timeout");
        }
        catch (InternalListenerNotFoundException)
        {
            return ConnectUpstreamResult.Failed(StatusCodes.Status503ServiceUnavailable, "destination_unavailable",
                "the gateway's hidden HTTP endpoint for decapsulated tunnels is not bound (the host is stopping)");
        }
        catch (InternalListenerBusyException)
        {
            return ConnectUpstreamResult.Failed(StatusCodes.Status503ServiceUnavailable, "connection_limit_reached",
                "too many decapsulated tunnels wait for the gateway's HTTP stack to accept them");
        }
    }
}
