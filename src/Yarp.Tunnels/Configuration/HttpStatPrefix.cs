using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Configuration;

/// <summary>Resolves the <c>http.&lt;prefix&gt;</c> statistics scope of a request or connection from its <see cref="IHttpListenerFeature"/>.</summary>
internal static class HttpStatPrefix
{
    /// <summary>The prefix of requests that did not arrive on a Yarp.Tunnels listener.</summary>
    public const string Fallback = "default";

    public static string Of(IFeatureCollection features) => features.Get<IHttpListenerFeature>()?.StatPrefix ?? Fallback;
}
