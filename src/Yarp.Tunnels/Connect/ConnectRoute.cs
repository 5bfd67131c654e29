namespace Yarp.Tunnels.Connect;

/// <summary>The validated CONNECT settings of one route (its <c>Connect</c> block), as the CONNECT step uses them.</summary>
/// <param name="Enabled">Whether CONNECT is allowed on the route.</param>
/// <param name="Mode">Terminate or proxy.</param>
/// <param name="AllowPost">Whether a POST on the route is terminated as a raw TCP tunnel too.</param>
/// <param name="ProxyProtocol">The PROXY header sent to the target, or null.</param>
/// <param name="Policy">The target policy and authorization.</param>
/// <param name="TlsOrigination">TLS to the target, or null (also when the block says <c>Enabled: false</c>).</param>
/// <param name="ConnectTimeout">Bounds resolving and connecting to the target.</param>
/// <param name="Decapsulate">Whether the tunnel's bytes are served by the gateway's own HTTP stack.</param>
internal sealed record ConnectRoute(bool Enabled, ConnectMode Mode, bool AllowPost, ProxyProtocolVersion? ProxyProtocol,
    ConnectTargetPolicy Policy, ConnectTlsOriginationConfig? TlsOrigination, TimeSpan ConnectTimeout, bool Decapsulate)
{
    /// <summary>
    /// A route without a <c>Connect</c> block whose CONNECT the gateway list allows: forwarded to the route's cluster,
    /// as Envoy does for a route with a CONNECT upgrade and no <c>connect_config</c>.
    /// </summary>
    public static readonly ConnectRoute WithoutBlock = new(true, ConnectMode.Proxy, false, null, ConnectTargetPolicy.Default, null,
        new ConnectConfig().ConnectTimeout, false);
}
