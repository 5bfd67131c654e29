using System.Diagnostics;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Telemetry;

/// <summary>
/// Tags every forwarded request with its destination, origin and send time (<see cref="UpstreamRequestInfo"/>) for the
/// cluster's request stats and the upstream service time header.
/// </summary>
internal sealed class UpstreamStatsTransform : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        context.AddRequestTransform(static transformContext =>
        {
            var http = transformContext.HttpContext;
            if (http.Features.Get<IReverseProxyFeature>()?.ProxiedDestination is { } destination)
            {
                transformContext.ProxyRequest.Options.Set(UpstreamRequestInfo.OptionsKey, new UpstreamRequestInfo(
                    destination.DestinationId, http.Features.Get<IInternalConnectionFeature>() is not null, http.RequestAborted, Stopwatch.GetTimestamp()));
            }
            return default;
        });
    }
}
