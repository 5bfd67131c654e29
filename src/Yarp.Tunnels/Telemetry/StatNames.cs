using System.Collections.Concurrent;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// Every statistic Yarp.Tunnels publishes, declared once with its kind, as Envoy spells it, and the families they live
/// in. Add a stat here (<see cref="StatName.Counter"/>, <see cref="StatName.Gauge"/> or
/// <see cref="StatName.Histogram"/>) and list it in the package README.
/// </summary>
internal static class StatNames
{
    public const string ListenerFamily = "listener";
    public const string TcpFamily = "tcp";
    public const string ClusterFamily = "cluster";
    public const string HttpFamily = "http";

    /// <summary>The tag (Envoy's <c>envoy.response_code</c>) that <see cref="ResponseCode"/> stats carry.</summary>
    public const string ResponseCodeTag = "envoy_response_code";

    /// <summary>The tag (Envoy's <c>envoy.response_code_class</c>) that <see cref="ResponseCodeClass"/> stats carry.</summary>
    public const string ResponseCodeClassTag = "envoy_response_code_class";

    private static readonly ConcurrentDictionary<(string Prefix, int Code), StatName> ByCode = new();
    private static readonly ConcurrentDictionary<(string Prefix, int Class), StatName> ByCodeClass = new();

    /// <summary>The tag key (<see cref="StatScope.WithTag"/>) that carries the upgrade type on the upgrade stats.</summary>
    public const string UpgradeTypeTag = "upgrade_type";

    public static readonly StatName DownstreamCxTotal = StatName.Counter("downstream_cx_total", "Downstream connections accepted.");
    public static readonly StatName DownstreamCxActive = StatName.Gauge("downstream_cx_active", "Downstream connections open now.");
    public static readonly StatName DownstreamCxRxBytesTotal = StatName.Counter("downstream_cx_rx_bytes_total", "Bytes received from downstream.", "By");
    public static readonly StatName DownstreamCxTxBytesTotal = StatName.Counter("downstream_cx_tx_bytes_total", "Bytes sent to downstream.", "By");
    public static readonly StatName DownstreamCxDestroy = StatName.Counter("downstream_cx_destroy", "Downstream connections closed.");
    public static readonly StatName DownstreamCxNoRoute = StatName.Counter("downstream_cx_no_route", "Connections with no available upstream destination.");
    public static readonly StatName DownstreamCxUpgradesTotal = StatName.Counter("downstream_cx_upgrades_total", "Connections and streams upgraded (WebSocket, CONNECT, any token).");
    public static readonly StatName DownstreamCxUpgradesActive = StatName.Gauge("downstream_cx_upgrades_active", "Upgraded connections and streams open now.");
    public static readonly StatName DownstreamRqWsOnNonWsRoute = StatName.Counter("downstream_rq_ws_on_non_ws_route", "Upgrade requests refused because the route does not allow the upgrade type.");
    public static readonly StatName DownstreamRqIdleTimeout = StatName.Counter("downstream_rq_idle_timeout", "Upgraded streams closed by their route's idle timeout.");
    public static readonly StatName IdleTimeout = StatName.Counter("idle_timeout", "Connections closed by the idle timeout.");
    public static readonly StatName ConnectFail = StatName.Counter("connect_fail", "Connects to an internal listener name that found nothing bound.");
    public static readonly StatName UpstreamCxTotal = StatName.Counter("upstream_cx_total", "Upstream connections opened.");
    public static readonly StatName UpstreamCxActive = StatName.Gauge("upstream_cx_active", "Upstream connections open now.");
    public static readonly StatName UpstreamCxConnectFail = StatName.Counter("upstream_cx_connect_fail", "Upstream connection attempts that failed.");
    public static readonly StatName UpstreamCxConnectTimeout = StatName.Counter("upstream_cx_connect_timeout", "Upstream connection attempts that timed out.");
    public static readonly StatName UpstreamCxRxBytesTotal = StatName.Counter("upstream_cx_rx_bytes_total", "Bytes received from upstream.", "By");
    public static readonly StatName UpstreamCxTxBytesTotal = StatName.Counter("upstream_cx_tx_bytes_total", "Bytes sent to upstream.", "By");
    public static readonly StatName NoMetadata = StatName.Counter("no_metadata", "Passthrough metadata keys absent at their source.");

    // TCP proxy flow control and tunnelling (tcp.<prefix>.*).
    public static readonly StatName DownstreamFlowControlPausedReadingTotal = StatName.Counter("downstream_flow_control_paused_reading_total", "Times reading from downstream paused because the upstream was full.");
    public static readonly StatName DownstreamFlowControlResumedReadingTotal = StatName.Counter("downstream_flow_control_resumed_reading_total", "Times reading from downstream resumed after a pause.");
    public static readonly StatName UpstreamFlushTotal = StatName.Counter("upstream_flush_total", "Connections whose downstream finished while bytes it sent still waited to be written upstream.");
    public static readonly StatName TunnelFailReset = StatName.Counter("tunnel_fail_reset", "Tunnels whose upstream closed or reset before answering.");
    public static readonly StatName TunnelFailConnect = StatName.Counter("tunnel_fail_connect", "Tunnels whose upstream proxy could not be reached (connect, TLS, timeout).");
    public static readonly StatName TunnelFailProtocol = StatName.Counter("tunnel_fail_protocol", "Tunnels whose upstream answered with a malformed or oversized response head.");

    /// <summary><c>tunnel_fail_status_{code}</c>: tunnels refused with that status (metric <c>tunnel_fail_status</c> tagged with the code).</summary>
    public static StatName TunnelFailStatus(int statusCode) => ResponseCode("tunnel_fail_status", statusCode);

    // CONNECT termination (http.<prefix>.connect_tunnels_*, tagged route_id).
    /// <summary>The tag key that carries the route id on the CONNECT tunnel stats.</summary>
    public const string RouteIdTag = "route_id";
    public static readonly StatName ConnectTunnelsTotal = StatName.Counter("connect_tunnels_total", "CONNECT (and AllowPost POST) tunnels established, by route.");
    public static readonly StatName ConnectTunnelsActive = StatName.Gauge("connect_tunnels_active", "CONNECT (and AllowPost POST) tunnels open now, by route.");

    /// <summary>
    /// The counter <c>{prefix}_{code}</c> (e.g. <c>upstream_rq_200</c>, <c>external.upstream_rq_503</c>): metric
    /// <c>{prefix}</c> tagged <c>envoy_response_code={code}</c>, as Envoy's tag extraction names it. Cached per code.
    /// </summary>
    public static StatName ResponseCode(string prefix, int statusCode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        return ByCode.GetOrAdd((prefix, statusCode), static key =>
        {
            var code = key.Code.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return StatName.TaggedCounter($"{key.Prefix}_{code}", key.Prefix, ResponseCodeTag, code, "Requests by response code.");
        });
    }

    /// <summary>
    /// The counter <c>{prefix}_{N}xx</c> for the class of <paramref name="statusCode"/> (e.g. <c>upstream_rq_2xx</c>):
    /// metric <c>{prefix}_xx</c> tagged <c>envoy_response_code_class={N}</c>, as Envoy's tag extraction names it.
    /// </summary>
    public static StatName ResponseCodeClass(string prefix, int statusCode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        return ByCodeClass.GetOrAdd((prefix, statusCode / 100), static key =>
        {
            var digit = key.Class.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return StatName.TaggedCounter($"{key.Prefix}_{digit}xx", key.Prefix + "_xx", ResponseCodeClassTag, digit, "Requests by response code class.");
        });
    }

    // HTTP request and cluster request statistics (the admin endpoint renders them; see Telemetry/UpstreamStatsHandler,
    // Telemetry/HttpStatsMiddleware, Telemetry/UpstreamConnectionStats, Telemetry/ClusterMembershipStats).

    /// <summary>The tag key (<see cref="StatScope.WithTag"/>) that carries the destination id on a cluster's request and connection stats.</summary>
    public const string DestinationTag = "destination";

    /// <summary>The metric prefix of <c>upstream_rq_&lt;code&gt;</c> / <c>upstream_rq_&lt;N&gt;xx</c>.</summary>
    public const string UpstreamRq = "upstream_rq";

    /// <summary>The metric prefix of <c>external.upstream_rq_&lt;code&gt;</c> (requests that did not arrive on an internal listener).</summary>
    public const string ExternalUpstreamRq = "external.upstream_rq";

    /// <summary>The metric prefix of <c>internal.upstream_rq_&lt;code&gt;</c> (requests that arrived on an internal listener).</summary>
    public const string InternalUpstreamRq = "internal.upstream_rq";

    /// <summary>The metric prefix of <c>downstream_rq_&lt;N&gt;xx</c>.</summary>
    public const string DownstreamRq = "downstream_rq";

    public static readonly StatName UpstreamRqTotal = StatName.Counter("upstream_rq_total", "Requests forwarded to the cluster's destinations (active health probes excluded).");
    public static readonly StatName UpstreamRqTimeout = StatName.Counter("upstream_rq_timeout", "Forwarded requests that timed out before the upstream's response headers.");
    public static readonly StatName UpstreamRqTime = StatName.Histogram("upstream_rq_time", "Time from sending a forwarded request to the upstream's response headers.", "ms");
    public static readonly StatName UpstreamCxHttp1Total = StatName.Counter("upstream_cx_http1_total", "Upstream HTTP/1.x connections opened by the forwarder.");
    public static readonly StatName UpstreamCxHttp2Total = StatName.Counter("upstream_cx_http2_total", "Upstream HTTP/2 connections opened by the forwarder.");
    public static readonly StatName MembershipChange = StatName.Counter("membership_change", "Changes of the cluster's set of destinations (the first set included).");
    public static readonly StatName MembershipTotal = StatName.Gauge("membership_total", "Destinations of the cluster.");
    public static readonly StatName MembershipHealthy = StatName.Gauge("membership_healthy", "Destinations of the cluster that health checks do not mark unhealthy.");
    public static readonly StatName DownstreamRqTotal = StatName.Counter("downstream_rq_total", "Requests received.");
    public static readonly StatName DownstreamRqActive = StatName.Gauge("downstream_rq_active", "Requests in progress.");
    public static readonly StatName DownstreamRqTime = StatName.Histogram("downstream_rq_time", "Time from a request's arrival to the end of its response.", "ms");

    /// <summary>The listener scope name Envoy uses for an internal listener.</summary>
    public static string InternalListener(string name) => "envoy_internal_" + name;
}
