using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.Tunnels.Connect;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The services of CONNECT's <c>Decapsulate</c>; <c>AddTunnels</c> calls this.</summary>
internal static class DecapsulationServiceCollectionExtensions
{
    public static IServiceCollection AddConnectDecapsulation(this IServiceCollection services)
    {
        services.TryAddSingleton<DecapsulationEndpoint>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, DecapsulatedRouteMatcherPolicy>());
        return services;
    }
}
