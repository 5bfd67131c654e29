namespace Yarp.Tunnels.Configuration;

/// <summary>The HTTP protocols an HTTP listener serves.</summary>
public enum ListenerProtocols
{
    /// <summary>HTTP/1.1 only.</summary>
    Http1,

    /// <summary>HTTP/2 only (prior knowledge on cleartext).</summary>
    Http2,

    /// <summary>HTTP/1.1 and HTTP/2, chosen by ALPN on TLS; HTTP/1.1 only on cleartext, as in Kestrel.</summary>
    Http1AndHttp2,

    /// <summary>
    /// HTTP/1.1 and HTTP/2 with prior knowledge on one cleartext port, told apart by the HTTP/2 connection preface
    /// (Envoy's <c>codec_type: AUTO</c>).
    /// </summary>
    Auto,
}
