using System.Diagnostics;
using System.Globalization;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Yarp.Tunnels.ResponseHeaders;

/// <summary>
/// Adds <c>ResponseHeaders:UpstreamServiceTimeHeader</c> (Envoy's <c>x-envoy-upstream-service-time</c>) to proxied
/// responses: whole milliseconds from sending the request upstream (after the request transforms) to its response
/// headers, replacing any value an upstream gateway set.
/// </summary>
internal sealed class UpstreamServiceTimeTransform(ResponseHeadersManager settings) : ITransformProvider
{
    private static readonly object SentAtKey = new();

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        context.AddRequestTransform(transformContext =>
        {
            if (settings.Current.UpstreamServiceTimeHeader is not null)
            {
                transformContext.HttpContext.Items[SentAtKey] = Stopwatch.GetTimestamp();
            }
            return default;
        });
        context.AddResponseTransform(transformContext =>
        {
            if (settings.Current.UpstreamServiceTimeHeader is { } header && transformContext.ProxyResponse is not null
                && transformContext.HttpContext.Items.TryGetValue(SentAtKey, out var sentAt) && sentAt is long timestamp)
            {
                var milliseconds = (long)Stopwatch.GetElapsedTime(timestamp).TotalMilliseconds;
                transformContext.HttpContext.Response.Headers[header] = milliseconds.ToString(CultureInfo.InvariantCulture);
            }
            return default;
        });
    }
}
