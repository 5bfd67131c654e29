using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Telemetry;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>Serves one TCP proxy listener: for each downstream connection, picks a destination, connects and relays.</summary>
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
        try
        {
            if (!_services.Picker.TryPick(_clusterId, out var cluster, out var destination))
            {
                _stats[StatNames.DownstreamCxNoRoute].Increment();
                Log.NoDestination(_logger, _clusterId);
                downstream.Abort();
                return;
            }

            var clusterStats = _services.Metrics.Scope(StatNames.ClusterFamily, _clusterId);
            clusterStats[StatNames.UpstreamCxTotal].Increment();
            var request = new UpstreamRequest(_clusterId, cluster!, destination!, destination!.Model.Config.Address, _connectTimeout, downstreamFeatures);
            var connection = await _services.Connectors.Select(request).ConnectAsync(request, cancellationToken).ConfigureAwait(false);
            if (connection.End is not { } upstream)
            {
                if (connection.Failure == UpstreamFailure.Timeout)
                {
                    clusterStats[StatNames.UpstreamCxConnectTimeout].Increment();
                }
                clusterStats[StatNames.UpstreamCxConnectFail].Increment();
                Log.ConnectFailed(_logger, request.Address, _clusterId, connection.Reason ?? connection.Failure.ToString());
                downstream.Abort();
                return;
            }

            var upstreamActive = clusterStats[StatNames.UpstreamCxActive];
            upstreamActive.Increment();
            try
            {
                var counters = new RelayCounters(_stats[StatNames.DownstreamCxRxBytesTotal], _stats[StatNames.DownstreamCxTxBytesTotal],
                    clusterStats[StatNames.UpstreamCxRxBytesTotal], clusterStats[StatNames.UpstreamCxTxBytesTotal]);
                var relay = new TcpRelay(downstream, upstream, counters, _idleTimeout, _services.TimeProvider);
                await relay.RunAsync().ConfigureAwait(false);
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
        catch (Exception ex)
        {
            Log.RelayError(_logger, _clusterId, ex);
            downstream.Abort();
        }
        finally
        {
            active.Decrement();
            await downstream.DisposeAsync().ConfigureAwait(false);
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
