using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Yarp.Tunnels.Configuration;

/// <summary>
/// One hidden HTTP endpoint of a host: the protocols Kestrel serves on it, whether it terminates TLS, and whether it
/// sniffs the HTTP/2 preface (<see cref="ListenerProtocols.Auto"/> on cleartext).
/// </summary>
internal sealed record HttpProfile(string Key, HttpProtocols Protocols, bool Tls, bool Sniff)
{
    public static readonly HttpProfile Http1 = new("h1", HttpProtocols.Http1, Tls: false, Sniff: false);
    public static readonly HttpProfile Http2 = new("h2", HttpProtocols.Http2, Tls: false, Sniff: false);
    public static readonly HttpProfile Auto = new("auto", HttpProtocols.Http1, Tls: false, Sniff: true);
    public static readonly HttpProfile TlsHttp1 = new("tls-h1", HttpProtocols.Http1, Tls: true, Sniff: false);
    public static readonly HttpProfile TlsHttp2 = new("tls-h2", HttpProtocols.Http2, Tls: true, Sniff: false);
    public static readonly HttpProfile TlsHttp1AndHttp2 = new("tls-h1h2", HttpProtocols.Http1AndHttp2, Tls: true, Sniff: false);

    /// <summary>
    /// The profile serving <paramref name="protocols"/>. Cleartext <c>Http1AndHttp2</c> is HTTP/1.1 only, as in Kestrel;
    /// on TLS, ALPN chooses between HTTP/1.1 and HTTP/2 for both <c>Http1AndHttp2</c> and <c>Auto</c>.
    /// </summary>
    public static HttpProfile For(ListenerProtocols protocols, bool tls) => (protocols, tls) switch
    {
        (ListenerProtocols.Http2, false) => Http2,
        (ListenerProtocols.Auto, false) => Auto,
        (_, false) => Http1,
        (ListenerProtocols.Http1, true) => TlsHttp1,
        (ListenerProtocols.Http2, true) => TlsHttp2,
        _ => TlsHttp1AndHttp2,
    };
}
