using Yarp.Tunnels.InternalListeners;

namespace WebSocketSample;

internal static class BackendListener
{
    /// <summary>True for requests that arrived on the internal listener <paramref name="listenerName"/>.</summary>
    public static bool Is(HttpContext context, string listenerName) =>
        context.Features.Get<IInternalConnectionFeature>()?.ListenerName == listenerName;
}
