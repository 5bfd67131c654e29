using System.Net.Security;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>Opens the connection under an HTTP/2 connection: the foundation's connector for the address (socket or internal listener), then TLS with ALPN h2 if asked.</summary>
internal static class Http2Transport
{
    /// <exception cref="Http2ConnectException">Connecting, the TLS handshake or ALPN failed.</exception>
    public static async ValueTask<RelayEnd> ConnectAsync(UpstreamConnectors connectors, UpstreamRequest request, TunnelTransportOptions endpoint, CancellationToken cancellationToken)
    {
        var connection = await connectors.Select(request).ConnectAsync(request, cancellationToken).ConfigureAwait(false);
        if (connection.End is not { } raw)
        {
            throw new Http2ConnectException(connection.Failure, connection.Reason ?? connection.Failure.ToString());
        }
        if (!endpoint.UseTls)
        {
            return raw;
        }
        var tls = new SslStream(new RelayEndStream(raw));
        try
        {
            await tls.AuthenticateAsClientAsync(Http1TunnelOpener.TlsOptions(request, endpoint, SslApplicationProtocol.Http2), cancellationToken).ConfigureAwait(false);
            if (tls.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
            {
                throw new Http2ConnectException(UpstreamFailure.ConnectFailed, $"'{request.Address}' did not negotiate ALPN h2 in its TLS handshake.");
            }
            return new TlsRelayEnd(tls, raw);
        }
        catch (Exception ex)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            await raw.DisposeAsync().ConfigureAwait(false);
            if (ex is Http2ConnectException or OperationCanceledException)
            {
                throw;
            }
            throw new Http2ConnectException(UpstreamFailure.ConnectFailed, $"the TLS handshake with '{request.Address}' failed: {ex.Message}");
        }
    }
}
