namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>How the HTTP/2 client reaches a server: the connections to one address and endpoint are shared.</summary>
/// <param name="UseTls">TLS with ALPN <c>h2</c> (an <c>https://</c> destination); cleartext HTTP/2 (prior knowledge) otherwise.</param>
/// <param name="TlsServerName">The SNI and the name the certificate must match; null uses the address's host.</param>
/// <param name="ValidateCertificate">Whether the server certificate must chain to a trusted root and match the name.</param>
/// <param name="MaxStreamsPerConnection">The most streams one connection carries (never above the peer's SETTINGS_MAX_CONCURRENT_STREAMS); beyond it another connection opens.</param>
internal sealed record Http2Endpoint(bool UseTls, string? TlsServerName, bool ValidateCertificate, int MaxStreamsPerConnection);
