namespace Yarp.Tunnels.Configuration;

/// <summary>
/// A listener declared in <c>ReverseProxy:Listeners</c>: what is bound (a socket or an internal listener) and what runs
/// on it (YARP's HTTP routes, or a TCP proxy).
/// </summary>
public sealed record ListenerConfig
{
    /// <summary>The listener id (its key under <c>Listeners</c>).</summary>
    public string Name { get; init; } = "";

    /// <summary><c>tcp://IP:PORT</c> for a socket or <c>envoy-internal://NAME</c> for an internal listener.</summary>
    public string? Address { get; init; }

    /// <summary>The HTTP protocols served when the listener carries HTTP; default <see cref="ListenerProtocols.Http1"/>.</summary>
    public ListenerProtocols? Protocols { get; init; }

    /// <summary>For internal listeners: KiB buffered per direction per connection, 1–8192, default 1024.</summary>
    public int? BufferSizeKb { get; init; }

    /// <summary>How long a removed listener's open connections may finish before they are closed; default 30 seconds.</summary>
    public TimeSpan? DrainTimeout { get; init; }

    /// <summary>For HTTP listeners: the prefix of this listener's <c>http.&lt;StatPrefix&gt;.*</c> statistics; defaults to <see cref="Name"/>.</summary>
    public string? StatPrefix { get; init; }

    /// <summary>For HTTP socket listeners: serve HTTPS with this certificate (ALPN picks HTTP/2 for <see cref="ListenerProtocols.Http1AndHttp2"/>).</summary>
    public ListenerCertificateConfig? Certificate { get; init; }

    /// <summary>When set, connections are relayed as raw TCP instead of being served as HTTP.</summary>
    public TcpProxyConfig? TcpProxy { get; init; }
}
