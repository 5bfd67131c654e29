namespace Yarp.Tunnels.Connect;

/// <summary>What a CONNECT route does with the tunnel (Envoy: a route with or without <c>connect_config</c>).</summary>
public enum ConnectMode
{
    /// <summary>The gateway opens TCP to the target and relays the tunnel's bytes.</summary>
    Terminate,

    /// <summary>The gateway forwards the CONNECT to a destination of the route's cluster that is itself a proxy.</summary>
    Proxy,
}
