using System.Diagnostics;
using System.Globalization;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.ResponseHeaders;

/// <summary>
/// Adds <c>ResponseHeaders:UpstreamServiceTimeHeader</c> (Envoy's <c>x-envoy-upstream-service-time</c>) to proxied
/// responses: whole milliseconds from sending the request upstream (its request transforms, where
/// <see cref="UpstreamStatsTransform"/> stamps <see cref="UpstreamRequestInfo.SentAt"/>) to its response headers,
/// replacing any value an upstream gateway set.
/// </summary>
internal sealed class UpstreamServiceTimeTransform(ResponseHeadersManager settings) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        context.AddResponseTransform(transformContext =>
        {
            if (settings.Current.UpstreamServiceTimeHeader is { } header
                && transformContext.ProxyResponse?.RequestMessage?.Options.TryGetValue(UpstreamRequestInfo.OptionsKey, out var info) == true)
            {
                var milliseconds = (long)Stopwatch.GetElapsedTime(info.SentAt).TotalMilliseconds;
                transformContext.HttpContext.Response.Headers[header] = milliseconds.ToString(CultureInfo.InvariantCulture);
            }
            return default;
        });
    }
}
