using System.Net.Security;
using System.Security.Authentication;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling.Http2;

/// <summary>Opens the byte stream under an HTTP/2 connection: the foundation's connector for the address (socket or internal listener), then TLS with ALPN h2 if asked.</summary>
internal static class Http2Transport
{
    /// <exception cref="Http2ConnectException">Connecting, the TLS handshake or ALPN failed.</exception>
    public static async ValueTask<Stream> ConnectAsync(UpstreamConnectors connectors, UpstreamRequest request, TunnelTransportOptions endpoint, CancellationToken cancellationToken)
    {
        var connection = await connectors.Select(request).ConnectAsync(request, cancellationToken).ConfigureAwait(false);
        if (connection.End is not { } end)
        {
            throw new Http2ConnectException(connection.Failure, connection.Reason ?? connection.Failure.ToString());
        }
        var stream = new RelayEndStream(end);
        if (!endpoint.UseTls)
        {
            return stream;
        }
        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
        try
        {
            var options = new SslClientAuthenticationOptions
            {
                TargetHost = endpoint.TlsServerName ?? (Uri.TryCreate(request.Address, UriKind.Absolute, out var uri) ? uri.IdnHost : request.Address),
                ApplicationProtocols = [SslApplicationProtocol.Http2],
            };
            if (!endpoint.ValidateCertificate)
            {
                options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            }
            await tls.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            if (tls.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
            {
                throw new Http2ConnectException(UpstreamFailure.ConnectFailed, $"'{request.Address}' did not negotiate ALPN h2 in its TLS handshake.");
            }
            return tls;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new Http2ConnectException(UpstreamFailure.ConnectFailed, $"the TLS handshake with '{request.Address}' failed: {ex.Message}");
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
