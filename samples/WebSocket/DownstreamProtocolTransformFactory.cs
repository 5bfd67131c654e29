using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace WebSocketSample;

/// <summary>
/// The route transform <c>{ "RequestHeaderDownstreamProtocol": "&lt;header&gt;" }</c>: sets that request header to how
/// the client reached the gateway (<see cref="HopProtocol"/>), replacing any value the client sent, so a backend can
/// tell which protocol the client used even when the gateway changes it on the way (RFC 8441 ↔ HTTP/1.1 Upgrade).
/// </summary>
internal sealed class DownstreamProtocolTransformFactory : ITransformFactory
{
    internal const string Key = "RequestHeaderDownstreamProtocol";

    public bool Validate(TransformRouteValidationContext context, IReadOnlyDictionary<string, string> transformValues)
    {
        if (!transformValues.TryGetValue(Key, out var header))
        {
            return false;
        }
        if (transformValues.Count != 1)
        {
            context.Errors.Add(new ArgumentException($"The '{Key}' transform takes no other key (got: {string.Join(", ", transformValues.Keys)})."));
        }
        if (string.IsNullOrWhiteSpace(header))
        {
            context.Errors.Add(new ArgumentException($"The '{Key}' transform needs a header name."));
        }
        return true;
    }

    public bool Build(TransformBuilderContext context, IReadOnlyDictionary<string, string> transformValues)
    {
        if (!transformValues.TryGetValue(Key, out var header))
        {
            return false;
        }
        context.RequestTransforms.Add(new DownstreamProtocolTransform(header));
        return true;
    }

    private sealed class DownstreamProtocolTransform(string headerName) : RequestTransform
    {
        public override ValueTask ApplyAsync(RequestTransformContext context)
        {
            RemoveHeader(context, headerName);
            AddHeader(context, headerName, HopProtocol.Describe(context.HttpContext));
            return default;
        }
    }
}
