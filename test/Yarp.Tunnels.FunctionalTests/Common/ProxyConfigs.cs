using System.Net;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Yarp.Tunnels.FunctionalTests.Common;

internal static class ProxyConfigs
{
    public static RouteConfig CatchAll(string clusterId = "backend") => new()
    {
        RouteId = "all",
        ClusterId = clusterId,
        Match = new RouteMatch { Path = "/{**catch-all}" },
    };

    public static ClusterConfig Cluster(string clusterId, IReadOnlyDictionary<string, DestinationConfig> destinations, Version? version = null,
        IReadOnlyDictionary<string, string>? metadata = null, HealthCheckConfig? health = null) => new()
    {
        ClusterId = clusterId,
        Destinations = destinations,
        Metadata = metadata,
        HealthCheck = health,
        HttpRequest = version is null ? null : new ForwarderRequestConfig
        {
            Version = version,
            VersionPolicy = System.Net.Http.HttpVersionPolicy.RequestVersionExact,
        },
    };

    public static ClusterConfig Single(string clusterId, string address, Version? version = null) =>
        Cluster(clusterId, new Dictionary<string, DestinationConfig> { ["d1"] = new() { Address = address } }, version);

    public static readonly Version Http11 = HttpVersion.Version11;
    public static readonly Version Http2 = HttpVersion.Version20;
}
