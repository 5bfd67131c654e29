using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.Destinations;
using Yarp.Tunnels.InternalListeners;
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

    public async Task HandleAsync(RelayEnd downstream, IFeatureCollection? downstreamFeatures)
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

            var upstream = await ConnectAsync(cluster!, destination!, downstreamFeatures).ConfigureAwait(false);
            if (upstream is null)
            {
                downstream.Abort();
                return;
            }

            var clusterStats = _services.Metrics.Scope(StatNames.ClusterFamily, _clusterId);
            clusterStats[StatNames.UpstreamCxActive].Increment();
            try
            {
                var relay = new TcpRelay(downstream, upstream, _idleTimeout, _stats);
                await relay.RunAsync().ConfigureAwait(false);
                if (relay.TimedOut)
                {
                    _stats[StatNames.IdleTimeout].Increment();
                    Log.IdleTimeout(_logger, _idleTimeout, _clusterId);
                }
            }
            finally
            {
                clusterStats[StatNames.UpstreamCxActive].Decrement();
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

    private async Task<RelayEnd?> ConnectAsync(ClusterState cluster, DestinationState destination, IFeatureCollection? downstreamFeatures)
    {
        var clusterStats = _services.Metrics.Scope(StatNames.ClusterFamily, _clusterId);
        clusterStats[StatNames.UpstreamCxTotal].Increment();
        var address = destination.Model.Config.Address;
        try
        {
            if (InternalAddress.IsInternal(address))
            {
                InternalAddress.TryParse(address, out var name, out _, out _);
                var metadata = destination.Model.Config.Metadata;
                var options = new InternalConnectOptions
                {
                    EndpointId = metadata?.GetValueOrDefault(InternalUpstreamMetadata.EndpointId) ?? destination.DestinationId,
                    Metadata = PassthroughMetadata.Collect(_clusterId, cluster.Model.Config.Metadata, metadata, _services.Metrics),
                    State = SharedStateCollector.Collect(downstreamFeatures),
                };
                return new StreamRelayEnd(_services.Registry.Connect(name!, options));
            }

            var endPoint = ParseSocketAddress(address);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var timeout = new CancellationTokenSource(_connectTimeout);
                await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
                return new SocketRelayEnd(socket);
            }
            catch (OperationCanceledException)
            {
                socket.Dispose();
                clusterStats[StatNames.UpstreamCxConnectTimeout].Increment();
                throw new TimeoutException($"Connecting to '{address}' timed out after {_connectTimeout}.");
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException or FormatException)
        {
            clusterStats[StatNames.UpstreamCxConnectFail].Increment();
            Log.ConnectFailed(_logger, address, _clusterId, ex.Message);
            return null;
        }
    }

    /// <summary>Accepts <c>tcp://HOST:PORT</c> and, for convenience, <c>http://HOST:PORT</c> destination addresses.</summary>
    internal static EndPoint ParseSocketAddress(string address)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Port <= 0 || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException($"'{address}' is not a tcp://HOST:PORT address.");
        }
        var host = uri.Host.Trim('[', ']');
        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, uri.Port) : new DnsEndPoint(host, uri.Port);
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
