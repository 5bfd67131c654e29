using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// A branch of the proxy pipeline (from <see cref="IApplicationBuilder.New"/>) seen as an
/// <see cref="IReverseProxyApplicationBuilder"/>, so YARP's proxy steps and user chains can be added to it.
/// </summary>
internal sealed class ProxyBranchBuilder(IApplicationBuilder inner) : IReverseProxyApplicationBuilder
{
    public IServiceProvider ApplicationServices
    {
        get => inner.ApplicationServices;
        set => inner.ApplicationServices = value;
    }

    public IFeatureCollection ServerFeatures => inner.ServerFeatures;

    public IDictionary<string, object?> Properties => inner.Properties;

    public IApplicationBuilder Use(Func<RequestDelegate, RequestDelegate> middleware)
    {
        inner.Use(middleware);
        return this;
    }

    public IApplicationBuilder New() => inner.New();

    public RequestDelegate Build() => inner.Build();
}
