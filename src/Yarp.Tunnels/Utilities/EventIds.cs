namespace Yarp.Tunnels.Utilities;

/// <summary>Every event id Yarp.Tunnels logs with, in one table.</summary>
internal static class EventIds
{
    public const int InternalListenerMissing = 1;

    public const int TcpProxyNoDestination = 11;
    public const int TcpProxyConnectFailed = 12;
    public const int TcpProxyIdleTimeout = 13;
    public const int TcpProxyRelayError = 14;
    public const int TcpProxyAcceptError = 15;

    public const int ListenerAdded = 20;
    public const int ListenerRemoved = 21;
    public const int ListenerDrained = 22;
    public const int ListenerConfigInvalid = 23;
    public const int ListenerBindFailed = 24;

    public const int ProtocolSniffingEnded = 40;
    public const int ProtocolSniffingNoHttp2 = 41;
    public const int InternalListenerBusy = 42;

    public const int ListenerAcceptFailed = 50;
    public const int ListenerHandOffRefused = 51;

    public const int UpgradeConfigInvalid = 100;
    public const int UpgradePolicyRefused = 101;
    public const int UpgradeIdleTimeout = 102;
    public const int UpgradePipelineNotMapped = 103;

    public const int UpgradeForwarderForwarding = 115;
    public const int UpgradeForwarderDowngrading = 116;
    public const int UpgradeForwarderNoDestination = 117;
    public const int UpgradeForwarderRequestFailed = 118;
    public const int UpgradeForwarderRefused = 119;
    public const int UpgradeForwarderAcceptFailed = 120;
    public const int UpgradeForwarderEnded = 121;
    public const int UpgradeForwarderMalformed = 122;

    public const int Http2ConnectionOpened = 200;
    public const int Http2ConnectionReady = 201;
    public const int Http2ConnectionClosed = 202;
    public const int Http2ConnectionError = 203;
    public const int Http2GoAwayReceived = 204;
    public const int Http2KeepAliveTimeout = 205;
    public const int Http2StreamReset = 206;

    public const int TunnelEstablished = 230;

    public const int ConnectEstablished = 300;
    public const int ConnectClosed = 301;
    public const int ConnectFailed = 302;
    public const int ConnectMalformed = 303;
    public const int ConnectNoShim = 304;
    public const int ConnectAcceptFailed = 305;
    public const int ConnectPolicyMissing = 306;
    public const int ConnectUnauthorized = 307;
    public const int ConnectRefusedNoRoute = 308;

    public const int AdminHealthCheckFailed = 400;
    public const int AdminHealthCheckOk = 401;
    public const int AdminDrainingListeners = 402;
    public const int AdminRequestFailed = 403;

    public const int ResponseHeadersConfigInvalid = 430;
}
