namespace Yarp.Tunnels.Connect;

/// <summary>
/// A route's CONNECT settings (<c>Routes:&lt;id&gt;:Connect</c>): the block's presence enables CONNECT on the route and
/// says how a CONNECT (or, with <see cref="AllowPost"/>, a POST) that matched it is handled.
/// </summary>
public sealed record ConnectConfig
{
    /// <summary>Whether CONNECT is allowed on the route; default true (false refuses it even if the gateway list allows it).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Terminate (relay the tunnel's bytes to the target over TCP) or proxy (forward the CONNECT to an upstream proxy).</summary>
    public ConnectMode Mode { get; init; } = ConnectMode.Terminate;

    /// <summary>Also terminate a POST that matched the route as a raw TCP tunnel: request body in, response body out.</summary>
    public bool AllowPost { get; init; }

    /// <summary>Prepend a PROXY protocol header with the client's addresses to the stream sent to the target; null sends none.</summary>
    public ProxyProtocolVersion? ProxyProtocol { get; init; }

    /// <summary>Which targets an original-destination cluster may reach, and who may open tunnels.</summary>
    public ConnectPolicyConfig Policy { get; init; } = new();

    /// <summary>Open TLS to the target and relay the client's plaintext inside it; null relays bytes as they are.</summary>
    public ConnectTlsOriginationConfig? TlsOrigination { get; init; }

    /// <summary>Bounds resolving and connecting to the target together (a timeout answers 504); default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Serve the tunnel's bytes with the gateway's own HTTP stack (its routes answer the requests inside).</summary>
    public bool Decapsulate { get; init; }
}
