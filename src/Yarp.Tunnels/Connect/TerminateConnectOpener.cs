using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Tunneling;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// Terminate mode (Envoy's <c>connect_config</c>): TCP to the destination YARP picked (trusted), or for an
/// original-destination cluster to the CONNECT authority under the route's target policy, every resolved address vetted
/// before the connect (the connectors resolve once and connect only to allowed addresses: no rebinding window). Then
/// the route's PROXY header and TLS origination.
/// </summary>
internal sealed class TerminateConnectOpener(TcpProxyServices services) : IConnectUpstreamOpener
{
    public async ValueTask<ConnectUpstreamResult> OpenAsync(ConnectContext context, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        var cluster = context.Cluster;
        DestinationState destination;
        string address;
        Func<IPAddress, bool>? addressPolicy = null;
        if (context.Destination is { } picked)
        {
            destination = picked;
            address = picked.Model.Config.Address;
        }
        else
        {
            if (!settings.Policy.AllowsTarget(context.Target, out var exactEndpoint, out var reason))
            {
                return ConnectUpstreamResult.Failed(StatusCodes.Status403Forbidden, "destination_ip_prohibited", $"{reason} by the route's CONNECT policy");
            }
            address = context.Target.Address;
            destination = new DestinationState(context.Target.Authority, new DestinationModel(new DestinationConfig { Address = address }));
            addressPolicy = exactEndpoint ? null : settings.Policy.AllowsAddress;
        }

        var request = new UpstreamRequest(cluster.ClusterId, cluster, destination, address, settings.ConnectTimeout,
            context.HttpContext.Features, addressPolicy);
        var connection = await services.Connectors.Select(request).ConnectAsync(request, cancellationToken).ConfigureAwait(false);
        if (connection.End is not { } upstream)
        {
            return Failure(connection.Failure, connection.Reason ?? "");
        }

        try
        {
            if (settings.ProxyProtocol is { } version)
            {
                var http = context.HttpContext.Connection;
                var source = http.RemoteIpAddress is { } remote ? new IPEndPoint(remote, http.RemotePort) : null;
                var target = http.LocalIpAddress is { } local ? new IPEndPoint(local, http.LocalPort) : null;
                await upstream.WriteAsync(ProxyProtocolHeader.Build(version, source, target), cancellationToken).ConfigureAwait(false);
            }
            if (settings.TlsOrigination is { } tls)
            {
                return await OriginateTlsAsync(upstream, tls, context, cancellationToken).ConfigureAwait(false);
            }
            return ConnectUpstreamResult.Connected(upstream);
        }
        catch (Exception ex) when (ex is IOException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            await upstream.DisposeAsync().ConfigureAwait(false);
            return ConnectUpstreamResult.Failed(StatusCodes.Status502BadGateway, "connection_terminated", $"the target closed the connection: {ex.Message}");
        }
        catch
        {
            await upstream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<ConnectUpstreamResult> OriginateTlsAsync(RelayEnd upstream, ConnectTlsOriginationConfig tls, ConnectContext context, CancellationToken cancellationToken)
    {
        var validate = tls.ValidateCertificate;
        var ssl = new SslStream(new RelayEndStream(upstream), leaveInnerStreamOpen: true,
            validate ? null : static (_, _, _, _) => true);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(context.Settings.ConnectTimeout);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = tls.ServerName ?? context.Target.Host,
                EnabledSslProtocols = SslProtocols.None,
            }, timeout.Token).ConfigureAwait(false);
            return ConnectUpstreamResult.Connected(new TlsRelayEnd(ssl, upstream));
        }
        catch (AuthenticationException ex)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            await upstream.DisposeAsync().ConfigureAwait(false);
            return ConnectUpstreamResult.Failed(StatusCodes.Status502BadGateway, "tls_certificate_error", $"TLS to the target failed: {ex.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            await upstream.DisposeAsync().ConfigureAwait(false);
            return ConnectUpstreamResult.Failed(StatusCodes.Status504GatewayTimeout, "connection_timeout", "the TLS handshake with the target timed out");
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            await upstream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The answer to a failed connect (RFC 9209 error types).</summary>
    internal static ConnectUpstreamResult Failure(UpstreamFailure failure, string reason) => failure switch
    {
        UpstreamFailure.ResolveFailed => ConnectUpstreamResult.Failed(StatusCodes.Status502BadGateway, "dns_error", reason),
        UpstreamFailure.PolicyDenied => ConnectUpstreamResult.Failed(StatusCodes.Status403Forbidden, "destination_ip_prohibited", $"{reason} (the route's CONNECT policy)"),
        UpstreamFailure.Timeout => ConnectUpstreamResult.Failed(StatusCodes.Status504GatewayTimeout, "connection_timeout", reason),
        UpstreamFailure.NoListener => ConnectUpstreamResult.Failed(StatusCodes.Status503ServiceUnavailable, "destination_unavailable", reason),
        UpstreamFailure.InvalidAddress => ConnectUpstreamResult.Failed(StatusCodes.Status502BadGateway, "destination_not_found", reason),
        _ => ConnectUpstreamResult.Failed(StatusCodes.Status502BadGateway, "connection_refused", reason),
    };
}
