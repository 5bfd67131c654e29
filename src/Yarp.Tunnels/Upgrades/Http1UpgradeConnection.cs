using System.Net.Http;
using Yarp.ReverseProxy.Model;
using Yarp.Tunnels.TcpProxy;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// A backend connection the upgrade forwarder opened for one HTTP/1.1 Upgrade, counted as the cluster's HTTP client
/// counts its own (<c>upstream_cx_total</c>, <c>upstream_cx_http1_total</c>, <c>upstream_cx_active</c> while open) and
/// its request (<see cref="UpstreamStatsHandler.CountAsync"/>); while open it counts in the destination's
/// <c>ConcurrentRequestCount</c>, as the request YARP would have forwarded (so <c>LeastRequests</c> sees it).
/// </summary>
internal sealed class Http1UpgradeConnection : IAsyncDisposable
{
    private RelayEnd _connection;
    private readonly ClusterRequestStats _stats;
    private readonly StatCounter _active;
    private readonly TimeProvider _timeProvider;
    private readonly DestinationState _destination;
    private int _disposed;

    /// <param name="connection">The connected backend end (owned from now on).</param>
    /// <param name="stats">The cluster's request statistics.</param>
    /// <param name="request">The request the connection is for (its destination tags the statistics).</param>
    /// <param name="timeProvider">The clock of <c>upstream_rq_time</c>.</param>
    /// <param name="destination">The destination connected to.</param>
    public Http1UpgradeConnection(RelayEnd connection, ClusterRequestStats stats, HttpRequestMessage request, TimeProvider timeProvider, DestinationState destination)
    {
        _connection = connection;
        _destination = destination;
        ClusterDestinationPicker.Started(destination);
        _stats = stats;
        _timeProvider = timeProvider;
        var scope = stats.For(request);
        scope[StatNames.UpstreamCxTotal].Increment();
        scope[StatNames.UpstreamCxHttp1Total].Increment();
        _active = scope[StatNames.UpstreamCxActive];
        _active.Increment();
    }

    /// <summary>Sends the upgrade request and reads the backend's answer (a refusal's body is read from the connection).</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        UpstreamStatsHandler.CountAsync(_stats, request, _timeProvider, SendOnConnectionAsync, cancellationToken);

    /// <summary>The connection as the relay's backend end, once the backend answered 101; see <see cref="SwitchedConnectionRelayEnd"/>.</summary>
    public RelayEnd Switched(bool http1Client) => new SwitchedConnectionRelayEnd(_connection, http1Client);

    /// <summary>
    /// The connection itself as the relay's backend end, for a client connection that half-closes as a socket does (an
    /// HTTP/1.1 client's socket taken from Kestrel): each side's end of stream is passed on as a half-close.
    /// </summary>
    public RelayEnd SwitchedHalfClosing() => _connection;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _active.Decrement();
            ClusterDestinationPicker.Finished(_destination);
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<HttpResponseMessage> SendOnConnectionAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await _connection.WriteAsync(Http1UpgradeExchange.FormatRequest(request), cancellationToken).ConfigureAwait(false);
        // From here on the connection is read through what the answer left: the switched connection or the refusal's body.
        (var response, _connection) = await Http1UpgradeExchange.ReadResponseAsync(_connection, cancellationToken).ConfigureAwait(false);
        return response;
    }
}
