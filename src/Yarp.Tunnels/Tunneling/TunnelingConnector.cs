using System.Globalization;
using System.Net.Security;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Tunneling;

/// <summary>
/// The upstream connector of a TCP proxy listener with <c>Tunneling</c>: the picked destination is the upstream proxy,
/// and each downstream connection is carried inside one HTTP tunnel opened on it by the <see cref="ITunnelOpener"/> of
/// the configured protocol. It formats the tunnel's head per connection, counts and logs failures by reason, and
/// propagates the response's headers and trailers into the downstream connection's state.
/// </summary>
internal sealed partial class TunnelingConnector : IUpstreamConnector
{
    /// <summary>The connection item key (<c>ConnectionContext.Items</c>) of the tunnel response's headers (Envoy's filter state name).</summary>
    public const string ResponseHeadersKey = "envoy.tcp_proxy.propagate_response_headers";

    /// <summary>The connection item key of the tunnel response's trailers.</summary>
    public const string ResponseTrailersKey = "envoy.tcp_proxy.propagate_response_trailers";

    private readonly TunnelingConfig _config;
    private readonly TunnelFormatString _hostname;
    private readonly (string Name, TunnelFormatString Value)[] _headers;
    private readonly ITunnelOpener _opener;
    private readonly StatScope _stats;
    private readonly TcpProxyServices _services;
    private readonly bool _needsServerName;

    public TunnelingConnector(TunnelingConfig config, StatScope stats, TcpProxyServices services)
    {
        _config = config;
        _stats = stats;
        _services = services;
        // Validated by ListenerConfigValidator: the format strings parse and an opener exists for the protocol.
        _hostname = TunnelFormatString.Parse(config.Hostname!, out _)!;
        _headers = (config.HeadersToAdd ?? new Dictionary<string, string>())
            .Select(h => (h.Key, TunnelFormatString.Parse(h.Value, out _)!)).ToArray();
        _needsServerName = _hostname.UsesRequestedServerName || _headers.Any(h => h.Value.UsesRequestedServerName);
        Protocol = config.Protocol ?? TunnelProtocol.Http1;
        _opener = services.Services.GetRequiredKeyedService<ITunnelOpener>(Protocol);
        _ = _stats[StatNames.TunnelFailConnect];
        _ = _stats[StatNames.TunnelFailReset];
    }

    public TunnelProtocol Protocol { get; }

    public async ValueTask<UpstreamConnection> ConnectAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        var downstream = request.Downstream;
        var serverName = _needsServerName && downstream is not null
            ? await ClientHelloServerName.PeekAsync(downstream, _services.TimeProvider, cancellationToken).ConfigureAwait(false)
            : null;
        var context = new TunnelFormatContext(downstream?.LocalEndPoint, downstream?.RemoteEndPoint, serverName,
            request.Destination.Model.Config.Metadata, request.Cluster.Model.Config.Metadata);
        var authority = _hostname.Evaluate(context);
        var head = new TunnelHead(
            _config.UsePost == true ? "POST" : "CONNECT",
            authority,
            _config.UsePost == true ? _config.PostPath ?? "/" : null,
            Protocol: null,
            _headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value.Evaluate(context))).ToArray());
        Activity?.SetTag("tunnel.authority", authority);
        if (authority.Length == 0 || authority.Any(char.IsWhiteSpace))
        {
            return Fail(request, TunnelOpenResult.Failed(TunnelFailure.Protocol, $"Hostname '{_config.Hostname}' formatted to '{authority}', which is not an authority"));
        }

        var result = await _opener.OpenAsync(request, head, TunnelTransportOptions.For(request, _config.MaxTunnelsPerConnection), cancellationToken).ConfigureAwait(false);
        if (_config.PropagateResponseHeaders == true && result.Status != 0)
        {
            SetState(request, ResponseHeadersKey, result.ResponseHeaders);
        }
        if (result.Stream is not { } stream)
        {
            return Fail(request, result);
        }
        if (_config.PropagateResponseTrailers == true)
        {
            _ = result.Trailers.ContinueWith(
                static (trailers, state) => SetState((UpstreamRequest)state!, ResponseTrailersKey, trailers.Result),
                request, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        if (_config.PayloadTls is { } payloadTls)
        {
            var wrapped = await WrapInTlsAsync(stream, payloadTls, authority, request, cancellationToken).ConfigureAwait(false);
            if (wrapped.End is null)
            {
                return wrapped;
            }
            stream = wrapped.End;
        }
        Log.Established(_services.Logger, authority, request.Address, result.Status);
        return UpstreamConnection.Connected(stream);
    }

    /// <summary>TLS toward the final target inside the established tunnel; a failed handshake closes the tunnel and counts as a connect failure.</summary>
    private async ValueTask<UpstreamConnection> WrapInTlsAsync(RelayEnd stream, TunnelPayloadTlsConfig payloadTls, string authority, UpstreamRequest request,
        CancellationToken cancellationToken)
    {
        var options = new SslClientAuthenticationOptions { TargetHost = payloadTls.ServerName ?? HostOf(authority) };
        if (payloadTls.AcceptAnyServerCertificate == true)
        {
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        var tls = new SslStream(new RelayEndStream(stream));
        using var timeout = new CancellationTokenSource(request.ConnectTimeout, _services.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            await tls.AuthenticateAsClientAsync(options, linked.Token).ConfigureAwait(false);
            return UpstreamConnection.Connected(new TlsRelayEnd(tls, stream));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            await stream.DisposeAsync().ConfigureAwait(false);
            _stats[StatNames.TunnelFailConnect].Increment();
            return UpstreamConnection.Failed(UpstreamFailure.ConnectFailed, $"TLS to the target '{options.TargetHost}' inside the tunnel failed: {ex.Message}");
        }
    }

    /// <summary>The host of a <c>host:port</c> authority (brackets of an IPv6 literal removed).</summary>
    private static string HostOf(string authority)
    {
        var colon = authority.LastIndexOf(':');
        var host = colon > 0 && authority.IndexOf(']', colon) < 0 ? authority[..colon] : authority;
        return host.Trim('[', ']');
    }

    /// <summary>The activity of the tunnel being opened on this async flow (set by the handler), tagged with the authority.</summary>
    private static System.Diagnostics.Activity? Activity => System.Diagnostics.Activity.Current is { Source.Name: TunnelsActivitySource.Name } current ? current : null;

    /// <summary>Counts the failure by reason; the handler logs it (with the status and reason) and closes the downstream.</summary>
    private UpstreamConnection Fail(UpstreamRequest request, TunnelOpenResult result)
    {
        var reason = result.Reason ?? result.Failure.ToString();
        switch (result.Failure)
        {
            case TunnelFailure.Status:
                _stats[StatNames.TunnelFailStatus(Math.Clamp(result.Status, 100, 599))].Increment();
                Activity?.SetTag("tunnel.status", result.Status);
                return UpstreamConnection.Failed(UpstreamFailure.TunnelRefused, string.Create(CultureInfo.InvariantCulture, $"the upstream proxy answered {result.Status} {reason}"));
            case TunnelFailure.Connect:
                _stats[StatNames.TunnelFailConnect].Increment();
                return UpstreamConnection.Failed(UpstreamFailure.ConnectFailed, reason);
            case TunnelFailure.Reset:
                _stats[StatNames.TunnelFailReset].Increment();
                return UpstreamConnection.Failed(UpstreamFailure.TunnelRefused, reason);
            default:
                _stats[StatNames.TunnelFailProtocol].Increment();
                return UpstreamConnection.Failed(UpstreamFailure.TunnelRefused, reason);
        }
    }

    /// <summary>Stores <paramref name="fields"/> in the downstream connection's items, for its logs and the internal hops it opens.</summary>
    private static void SetState(UpstreamRequest request, string key, IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        if (request.DownstreamFeatures?.Get<IConnectionItemsFeature>()?.Items is { } items)
        {
            lock (items)
            {
                items[key] = new SharedState(fields, StateSharing.Once);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.TunnelEstablished, LogLevel.Debug, "Tunnel to '{Authority}' through '{Proxy}' established ({Status}).")]
        public static partial void Established(ILogger logger, string authority, string proxy, int status);
    }
}
