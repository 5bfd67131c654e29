namespace Yarp.Tunnels.Configuration;

/// <summary>Relays a listener's connections as raw TCP to a destination of a YARP cluster (Envoy's <c>tcp_proxy</c>).</summary>
public sealed record TcpProxyConfig
{
    /// <summary>The YARP cluster whose destinations (<c>tcp://IP:PORT</c> or <c>envoy-internal://NAME</c>) receive the connections.</summary>
    public string? ClusterId { get; init; }

    /// <summary>The prefix of this proxy's <c>tcp.&lt;StatPrefix&gt;.*</c> statistics; defaults to the listener name.</summary>
    public string? StatPrefix { get; init; }

    /// <summary>Closes a connection after this long without a byte in either direction; default 1 hour, 0 disables.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>How long an upstream connect may take; default 10 seconds.</summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary>When set, each connection is carried inside an HTTP tunnel to the picked destination (the upstream proxy).</summary>
    public TunnelingConfig? Tunneling { get; init; }
}
