using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Tunneling;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>
/// Serves one TCP proxy listener: for each downstream connection, picks a destination, connects (or, with
/// <c>Tunneling</c>, opens an HTTP tunnel on it) and relays. Each connection counts in the destination's
/// <c>ConcurrentRequestCount</c> while it is open, and its connect outcome feeds the cluster's passive health check.
/// </summary>
internal sealed partial class TcpProxyHandler
{
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromHours(1);
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly string _clusterId;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _connectTimeout;
    private readonly StatScope _stats;
    private readonly TcpProxyServices _services;
    private readonly ILogger _logger;
    private readonly TunnelingConnector? _tunneling;

    public TcpProxyHandler(string listenerName, TcpProxyConfig config, TcpProxyServices services)
    {
        _clusterId = config.ClusterId!;
        _idleTimeout = config.IdleTimeout ?? DefaultIdleTimeout;
        _connectTimeout = config.ConnectTimeout ?? DefaultConnectTimeout;
        _services = services;
        _stats = services.Metrics.Scope(StatNames.TcpFamily, config.StatPrefix ?? listenerName);
        _logger = services.Logger;
        _ = _stats[StatNames.DownstreamCxTotal];
        _ = _stats[StatNames.IdleTimeout];
        if (config.Tunneling is { } tunneling)
        {
            _tunneling = new TunnelingConnector(tunneling, _stats, services);
        }
    }

    /// <summary>Relays <paramref name="downstream"/> to a destination of the cluster, then disposes both ends; never throws.</summary>
    /// <param name="downstream">The accepted connection.</param>
    /// <param name="downstreamFeatures">Its features (shared state for internal upstreams), when it has any.</param>
    /// <param name="cancellationToken">Abandons a connect in progress (listener stopped, downstream closed).</param>
    public async Task HandleAsync(RelayEnd downstream, IFeatureCollection? downstreamFeatures, CancellationToken cancellationToken)
    {
        _stats[StatNames.DownstreamCxTotal].Increment();
        var active = _stats[StatNames.DownstreamCxActive];
        active.Increment();
        using var activity = _tunneling is null ? null : TunnelsActivitySource.Instance.StartActivity("tcp_proxy.tunnel", ActivityKind.Client);
        activity?.SetTag("tcp_proxy.stat_prefix", _stats.Name).SetTag("tunnel.protocol", _tunneling!.Protocol.ToString());
        try
        {
            if (!_services.Picker.TryPick(_clusterId, out var cluster, out var destination))
            {
                _stats[StatNames.DownstreamCxNoRoute].Increment();
                Log.NoDestination(_logger, _clusterId);
                activity?.SetTag("tunnel.outcome", "no_destination").SetStatus(ActivityStatusCode.Error);
                downstream.Abort();
                return;
            }

            var clusterStats = _services.Metrics.Scope(StatNames.ClusterFamily, _clusterId);
            clusterStats[StatNames.UpstreamCxTotal].Increment();
            var request = new UpstreamRequest(_clusterId, cluster!, destination!, destination!.Model.Config.Address, _connectTimeout, downstreamFeatures,
                Downstream: downstream);
            activity?.SetTag("tunnel.proxy", request.Address).SetTag("yarp.cluster", _clusterId).SetTag("yarp.destination", destination.DestinationId);
            ClusterDestinationPicker.Started(destination);
            try
            {
                await ConnectAndRelayAsync(request, downstream, clusterStats, activity, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ClusterDestinationPicker.Finished(destination);
            }
        }
        catch (Exception ex)
        {
            Log.RelayError(_logger, _clusterId, ex);
            activity?.SetTag("tunnel.outcome", "error").SetStatus(ActivityStatusCode.Error, ex.Message);
            downstream.Abort();
        }
        finally
        {
            active.Decrement();
            await downstream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task ConnectAndRelayAsync(UpstreamRequest request, RelayEnd downstream, StatScope clusterStats, Activity? activity, CancellationToken cancellationToken)
    {
        var connector = _tunneling ?? _services.Connectors.Select(request);
        var connection = await connector.ConnectAsync(request, cancellationToken).ConfigureAwait(false);
        _services.Picker.ReportConnect(request.Cluster, request.Destination, failed: connection.End is null);
        if (connection.End is not { } upstream)
        {
            if (connection.Failure == UpstreamFailure.Timeout)
            {
                clusterStats[StatNames.UpstreamCxConnectTimeout].Increment();
            }
            clusterStats[StatNames.UpstreamCxConnectFail].Increment();
            Log.ConnectFailed(_logger, request.Address, _clusterId, connection.Reason ?? connection.Failure.ToString());
            activity?.SetTag("tunnel.established", false).SetTag("tunnel.outcome", "refused").SetStatus(ActivityStatusCode.Error, connection.Reason);
            downstream.Abort();
            return;
        }

        activity?.SetTag("tunnel.established", true).AddEvent(new ActivityEvent("established"));
        var upstreamActive = clusterStats[StatNames.UpstreamCxActive];
        upstreamActive.Increment();
        try
        {
            var counters = new RelayCounters(_stats[StatNames.DownstreamCxRxBytesTotal], _stats[StatNames.DownstreamCxTxBytesTotal],
                clusterStats[StatNames.UpstreamCxRxBytesTotal], clusterStats[StatNames.UpstreamCxTxBytesTotal],
                _stats[StatNames.DownstreamFlowControlPausedReadingTotal], _stats[StatNames.DownstreamFlowControlResumedReadingTotal],
                _stats[StatNames.UpstreamFlushTotal]);
            var relay = new TcpRelay(downstream, upstream, counters, _idleTimeout, _services.TimeProvider);
            await relay.RunAsync().ConfigureAwait(false);
            activity?.SetTag("tunnel.downstream_rx_bytes", relay.DownstreamBytes).SetTag("tunnel.upstream_rx_bytes", relay.UpstreamBytes)
                .SetTag("tunnel.outcome", relay.TimedOut ? "idle_timeout" : "closed");
            if (relay.TimedOut)
            {
                _stats[StatNames.IdleTimeout].Increment();
                Log.IdleTimeout(_logger, _idleTimeout, _clusterId);
            }
        }
        finally
        {
            upstreamActive.Decrement();
            await upstream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.TcpProxyNoDestination, LogLevel.Warning, "TCP proxy: cluster '{ClusterId}' has no available destination; the connection is closed.")]
        public static partial void NoDestination(ILogger logger, string clusterId);

        [LoggerMessage(EventIds.TcpProxyConnectFailed, LogLevel.Warning, "TCP proxy: connecting to '{Address}' of cluster '{ClusterId}' failed: {Reason}")]
        public static partial void ConnectFailed(ILogger logger, string address, string clusterId, string reason);

        [LoggerMessage(EventIds.TcpProxyIdleTimeout, LogLevel.Debug, "TCP proxy: connection to cluster '{ClusterId}' closed after {IdleTimeout} idle.")]
        public static partial void IdleTimeout(ILogger logger, TimeSpan idleTimeout, string clusterId);

        [LoggerMessage(EventIds.TcpProxyRelayError, LogLevel.Debug, "TCP proxy: relay to cluster '{ClusterId}' failed.")]
        public static partial void RelayError(ILogger logger, string clusterId, Exception exception);
    }
}
