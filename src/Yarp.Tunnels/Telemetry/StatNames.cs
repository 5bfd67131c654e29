namespace Yarp.Tunnels.Telemetry;

/// <summary>The statistic names, as Envoy spells them, and the families they live in.</summary>
internal static class StatNames
{
    public const string ListenerFamily = "listener";
    public const string TcpFamily = "tcp";
    public const string ClusterFamily = "cluster";

    public const string DownstreamCxTotal = "downstream_cx_total";
    public const string DownstreamCxActive = "downstream_cx_active";
    public const string DownstreamCxRxBytesTotal = "downstream_cx_rx_bytes_total";
    public const string DownstreamCxTxBytesTotal = "downstream_cx_tx_bytes_total";
    public const string DownstreamCxDestroy = "downstream_cx_destroy";
    public const string DownstreamCxNoRoute = "downstream_cx_no_route";
    public const string IdleTimeout = "idle_timeout";
    public const string ConnectFail = "connect_fail";
    public const string UpstreamCxTotal = "upstream_cx_total";
    public const string UpstreamCxActive = "upstream_cx_active";
    public const string UpstreamCxConnectFail = "upstream_cx_connect_fail";
    public const string UpstreamCxConnectTimeout = "upstream_cx_connect_timeout";
    public const string NoMetadata = "no_metadata";

    /// <summary>The listener scope name Envoy uses for an internal listener.</summary>
    public static string InternalListener(string name) => "envoy_internal_" + name;

    public static bool IsGauge(string stat) => stat.EndsWith("_active", StringComparison.Ordinal);
}
