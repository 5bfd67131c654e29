using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.Tunnels.Connect;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The services of CONNECT's <c>Decapsulate</c> and <c>Mode: Proxy</c>; <c>AddTunnels</c> calls this.</summary>
internal static class ConnectOpenersServiceCollectionExtensions
{
    public static IServiceCollection AddConnectOpeners(this IServiceCollection services)
    {
        services.TryAddSingleton<DecapsulationEndpoint>();
        services.TryAddSingleton<DecapsulatingOpener>();
        services.TryAddSingleton<ProxyModeOpener>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, DecapsulatedRouteMatcherPolicy>());
        return services;
    }
}
