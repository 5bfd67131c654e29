using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Destinations;

/// <summary>Tells the HTTP client which destination an envoy-internal request is for, with the downstream connection's shared state.</summary>
internal sealed class InternalRequestTargetTransform : ITransformProvider
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
            var proxy = transformContext.HttpContext.Features.Get<IReverseProxyFeature>();
            var destination = proxy?.ProxiedDestination;
            if (destination is not null && InternalAddress.IsInternal(transformContext.DestinationPrefix))
            {
                var cluster = proxy!.Cluster.Config;
                transformContext.ProxyRequest.Options.Set(InternalRequestTarget.OptionsKey, new InternalRequestTarget(
                    cluster.ClusterId,
                    cluster.Metadata,
                    destination.DestinationId,
                    destination.Model.Config.Metadata,
                    SharedStateCollector.Collect(transformContext.HttpContext.Features)));
            }
            return default;
        });
    }
}
